#!/usr/bin/env ruby
# rubypop_adapter.rb - Ruby's Net::POP3 (the net-pop gem bundled with Ruby) under
# pop3-conform's adapter contract (conformance/README.md, "The adapter contract").
#
# Net::POP3's public methods bundle commands (start = connect, USER and PASS; mails =
# STAT then LIST; reset = RSET then a LIST), so the adapter drives the layer they are
# built on, Net::POP3Command, one command per operation (RFC 1939 sections 5 to 7): its
# reply checks, its listing parsers, and InternetMessageIO's line reading and
# dot-unstuffing are what every Net::POP3 user gets. POP3Command#auth sends USER and
# PASS in one call; the adapter runs its two halves as the operations "user" and "pass",
# with the same private steps (critical, get_response, check_response_auth), so each is
# answered on its own. Net::POP3 has no CAPA, STLS, SASL or UTF8.
#
# A failure that is not a -ERR reply (a timeout, a closed connection, a reply that is
# neither +OK nor -ERR) escapes Net::POP3.start's block, whose ensure closes the socket;
# the adapter does the same, so "state" afterwards says what a Net::POP3 user would see.
require 'net/pop'
require 'digest/md5'

BODY_SHOW_MAX = 2048

# The runner's text form of a value (conformance/src/escape.c).
def text(s)
  b = s.to_s.b
  if !b.empty? && b[0] != ' ' && b[-1] != ' ' && !b.include?('  ') &&
     b.match?(/\A[\x20-\x7e]*\z/n) && !b.match?(/["\\]/n)
    return b
  end
  o = +'"'
  b.each_byte do |c|
    o << case c
         when 0x0d then '\r'
         when 0x0a then '\n'
         when 0x09 then '\t'
         when 0x5c then '\\\\'
         when 0x22 then '\"'
         else (c < 0x20 || c > 0x7e) ? format('\x%02x', c) : c.chr
         end
  end
  o << '"'
end

def body_line(b)
  b = b.b
  return "body #{text(b)}" if b.bytesize <= BODY_SHOW_MAX
  "body-md5 #{b.bytesize} #{Digest::MD5.hexdigest(b)}"
end

# Split an operation into words: spaces, or "quoted with C escapes".
def words(line)
  out = []
  i = 0
  n = line.size
  loop do
    i += 1 while i < n && " \t".include?(line[i])
    return out if i >= n
    if line[i] == '"'
      i += 1
      buf = ''.b
      while i < n && line[i] != '"'
        if line[i] == '\\' && i + 1 < n
          e = line[i + 1]
          i += 2
          if e == 'x'
            buf << line[i, 2].to_i(16).chr
            i += 2
          else
            buf << ({ 'r' => "\r", 'n' => "\n", 't' => "\t", '0' => "\0", 's' => ' ' }[e] || e)
          end
          next
        end
        buf << line[i].b
        i += 1
      end
      i += 1
      out << buf
    else
      j = i
      j += 1 while j < n && !" \t".include?(line[j])
      out << line[i...j]
      i = j
    end
  end
end

def code_of(msg)
  m = /\A-ERR \[([^\]\s]+)\]/.match(msg) or return nil
  lv = m[1].upcase.split('/')
  return lv[0] if %w[IN-USE LOGIN-DELAY AUTH UTF8].include?(lv[0])
  return (lv.size > 1 && %w[TEMP PERM].include?(lv[1]) ? "SYS/#{lv[1]}" : 'SYS') if lv[0] == 'SYS'
  m[1]
end

class NA < StandardError; end

# Operations that only report what the client saw; n/a for them does not end the case.
REPORTING = %w[quirks anomalies capabilities pipelining].freeze

class Adapter
  def initialize
    @host = ENV['POP3_CONFORM_HOST']
    @port = ENV['POP3_CONFORM_PORT'].to_i
    @cafile = ENV['POP3_CONFORM_CAFILE']
    @timeout = (ENV['POP3_CONFORM_TIMEOUT'] || '5').to_f
    @verify_name = @host
    @insecure = false
    @na_option = nil
    @cmd = nil
    @sock = nil
    @tls = false
    @auth = false
  end

  def option(o)
    k, v = o.split('=', 2)
    case k
    when 'timeout' then @timeout = v.to_i / 1000.0
    when 'ca' then @cafile = ENV['POP3_CONFORM_OTHER_CAFILE'] if v == 'other'
    when 'insecure' then @insecure = true
    when 'server-name' then @verify_name = v
    when 'apop' then nil
    else @na_option = "Net::POP3 has no option #{o}"
    end
  end

  # The result lines of an exception. Net::POP3 raises POPError for every reply that is
  # not +OK, so a reply that is not -ERR either ("+ERR", "+ Hola") is a protocol error,
  # and POPAuthenticationError without a reply (APOP with no timestamp) is refused
  # before anything is sent.
  def err(e)
    msg = e.message.to_s.gsub(/[\r\n]/, ' ')
    case e
    when Net::POPAuthenticationError, Net::POPError
      return ["err state  # #{msg}"] if e.message.to_s == 'not APOP server; cannot login'
      return ["err proto  # #{msg}"] unless e.message.to_s.start_with?('-ERR')
      r = ["err server  # #{msg}"]
      c = code_of(e.message.to_s.strip)
      r << "code #{c}" if c
      r
    when Net::POPBadResponse then ["err proto  # #{msg}"]
    when Net::ReadTimeout, Net::OpenTimeout, Timeout::Error then ['err timeout']
    when OpenSSL::SSL::SSLError then ["err tls  # #{msg}"]
    when EOFError then ['err closed']
    when IOError, SystemCallError then ["err io  # #{msg}"]
    else ["err proto  # #{e.class}: #{msg}"]
    end
  end

  # As Net::POP3.start's ensure after an exception other than a -ERR: the socket closes.
  def fatal(r)
    return unless @cmd && r[0].match?(/\Aerr (proto|io|tls|timeout|closed)/)
    @sock&.close
    @cmd = nil
    @auth = false
  end

  # POP3Command's private steps, so each half of its auth can run on its own.
  def cmd_priv(name, *args, &blk) = @cmd.send(name, *args, &blk)

  def need
    raise IOError, 'not connected' unless @cmd
  end

  def connect(w)
    raise NA, @na_option if @na_option
    t = @timeout
    w.each { |a| t = a[8..].to_f if a.start_with?('timeout=') }
    tls = w.include?('tls')
    # as Net::POP3#do_start: a TCP socket, TLS over it, InternetMessageIO, POP3Command
    s = Timeout.timeout(t, Net::OpenTimeout) { TCPSocket.open(@host, @port) }
    @sock = s
    if tls
      ctx = OpenSSL::SSL::SSLContext.new
      ctx.set_params(@insecure ? { verify_mode: OpenSSL::SSL::VERIFY_NONE }
                               : { ca_file: @cafile, verify_mode: OpenSSL::SSL::VERIFY_PEER })
      ss = OpenSSL::SSL::SSLSocket.new(s, ctx)
      ss.hostname = @verify_name
      ss.sync_close = true
      Timeout.timeout(t, Net::OpenTimeout) { ss.connect }
      ss.post_connection_check(@verify_name) unless @insecure
      s = ss
      @sock = ss
    end
    io = Net::InternetMessageIO.new(s, read_timeout: t)
    @cmd = Net::POP3Command.new(io)
    @tls = tls
    @auth = false
    ['ok']
  end

  def list_text(v) = text(v.to_s)

  def run(w, line)
    op = w.shift
    raise NA, @na_option if @na_option && op == 'connect'
    case op
    when 'connect' then connect(w)
    when 'user'
      need
      # the first half of POP3Command#auth: a -ERR here is raised inside critical
      cmd_priv(:critical) { cmd_priv(:check_response_auth, cmd_priv(:get_response, 'USER %s', w[0])) }
      ['ok']
    when 'pass'
      need
      rest = line.sub(/\Apass ?/, '')
      pw = rest.start_with?('"') || w.size == 1 ? w[0] : rest
      # the second half: the reply is checked outside critical, as in auth
      cmd_priv(:check_response_auth, cmd_priv(:critical) { cmd_priv(:get_response, 'PASS %s', pw) })
      @auth = true
      ['ok']
    when 'apop'
      need
      @cmd.apop(w[0], w[1])
      @auth = true
      ['ok']
    when 'stat'
      need
      c, s = @cmd.stat
      ['ok', "stat #{c} #{s}"]
    when 'list'
      raise NA, 'Net::POP3 has no LIST of one message' unless w.empty?
      need
      ['ok'] + @cmd.list.map { |n, s| "msg #{n} #{s}" }
    when 'uidl'
      need
      return ['ok', "uid #{w[0]} #{list_text(@cmd.uidl(w[0].to_i))}"] unless w.empty?
      ['ok'] + @cmd.uidl.map { |n, u| "uid #{n} #{list_text(u)}" }
    when 'retr', 'top'
      need
      b = +''.b
      if op == 'retr'
        @cmd.retr(w[0].to_i) { |chunk| b << chunk.b }
      else
        @cmd.top(w[0].to_i, w[1].to_i) { |chunk| b << chunk.b }
      end
      ['ok', body_line(b)]
    when 'dele' then need; @cmd.dele(w[0].to_i); ['ok']
    when 'rset' then need; @cmd.rset; ['ok']
    when 'quit'
      need
      # as Net::POP3#do_finish: the socket closes whatever QUIT's reply was
      begin
        @cmd.quit
      ensure
        @sock.close
        @cmd = nil
        @auth = false
      end
      ['ok']
    when 'close'
      @sock&.close
      @cmd = nil
      @auth = false
      ['ok']
    when 'state'
      c = !@cmd.nil? && !@sock.closed?
      ['ok', "connected #{c ? 'yes' : 'no'}", "tls #{c && @tls ? 'yes' : 'no'}",
       "auth #{c && @auth ? 'yes' : 'no'}"]
    else
      raise NA, "Net::POP3 has no counterpart of #{op}"
    end
  end
end

a = Adapter.new
ops = []
$stdin.binmode.read.each_line do |raw|
  line = raw.strip
  next if line.empty?
  if line.start_with?('option ')
    a.option(line[7..].strip)
  else
    ops << line
  end
end
out = +''
ops.each do |line|
  begin
    r = a.run(words(line), line)
  rescue NA => e
    out << "n/a #{e.message}\n"
    # a reporting operation answered n/a is not compared: the case goes on
    next if REPORTING.include?(line.split(' ', 2)[0])
    break
  rescue StandardError => e
    r = a.err(e)
    a.fatal(r)
  end
  out << r.join("\n") << "\n"

end
$stdout.write(out)
