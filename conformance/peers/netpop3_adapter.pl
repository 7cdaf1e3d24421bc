#!/usr/bin/perl
# netpop3_adapter.pl - Perl's Net::POP3 (libnet) under pop3-conform's adapter contract.
#
# The runner starts this program once per case and delivery with the mock's address in
# the environment and the case's options and operations on standard input
# (conformance/README.md, "The adapter contract"). Each operation is one Net::POP3 call;
# its block of results is printed in the runner's text form (RFC 1939 sections 5 to 7 for
# the commands, RFC 2449 for CAPA, RFC 2595 for STLS, RFC 5034 for AUTH).
#
# Where Net::POP3 does more on the wire than the operation asks, the adapter says so:
#   - pass() and apop() follow a reply without "N messages" with a STAT of their own; the
#     adapter sends PASS and APOP through Net::Cmd's public command()/response(), so the
#     wire carries exactly the case's commands (the APOP digest is computed as apop() does);
#   - auth() always sends CAPA first, so AUTH is expressible only right after a case's
#     capa, and the two are answered by that one call; Authen::SASL always sends an
#     initial response when the mechanism has one, so "no-sasl-ir" is n/a;
#   - stls is what pop3_stls does: CAPA when the connection has not asked yet, STLS, the
#     handshake, and CAPA again (RFC 2595 section 4), with capa() and starttls();
#   - capa() returns a hash (no order, a fake APOP key): the capability lines are
#     reported in the order Net::POP3 read them, recorded from its read_until_dot().
# Everything Net::POP3 returns is reported as it returns it (a LIST line "0 12" is
# message 0), so a client deviation shows as a failure, not as an adapter repair.
use strict;
use warnings;
use Net::POP3;
use Digest::MD5 qw(md5_hex);

my $BODY_SHOW_MAX = 2048;

# The runner's text form of a value (conformance/src/escape.c).
sub text {
    my ($b) = @_;
    if (length($b) && $b !~ /^ / && $b !~ / $/ && $b !~ /  / && $b =~ /^[\x20-\x7e]*$/
        && $b !~ /["\\]/) {
        return $b;
    }
    my $o = '"';
    for my $c (split //, $b) {
        my $n = ord($c);
        if    ($c eq "\r") { $o .= '\r' }
        elsif ($c eq "\n") { $o .= '\n' }
        elsif ($c eq "\t") { $o .= '\t' }
        elsif ($c eq "\\") { $o .= '\\\\' }
        elsif ($c eq '"')  { $o .= '\"' }
        elsif ($n < 0x20 || $n > 0x7e) { $o .= sprintf('\x%02x', $n) }
        else { $o .= $c }
    }
    return $o . '"';
}

sub body_line {
    my ($b) = @_;
    return "body " . text($b) if length($b) <= $BODY_SHOW_MAX;
    return sprintf("body-md5 %d %s", length($b), md5_hex($b));
}

# Split an operation into words: spaces, or "quoted with C escapes".
sub words {
    my ($line) = @_;
    my @out;
    my $i = 0;
    my $n = length($line);
    while (1) {
        $i++ while $i < $n && substr($line, $i, 1) =~ /[ \t]/;
        return @out if $i >= $n;
        if (substr($line, $i, 1) eq '"') {
            $i++;
            my $buf = '';
            while ($i < $n && substr($line, $i, 1) ne '"') {
                my $c = substr($line, $i, 1);
                if ($c eq "\\" && $i + 1 < $n) {
                    my $e = substr($line, $i + 1, 1);
                    $i += 2;
                    if ($e eq 'x') { $buf .= chr(hex(substr($line, $i, 2))); $i += 2; next }
                    my %m = (r => "\r", n => "\n", t => "\t", 0 => "\0", s => " ");
                    $buf .= exists $m{$e} ? $m{$e} : $e;
                    next;
                }
                $buf .= $c;
                $i++;
            }
            $i++;
            push @out, $buf;
        }
        else {
            my $j = $i;
            $j++ while $j < $n && substr($line, $j, 1) !~ /[ \t]/;
            push @out, substr($line, $i, $j - $i);
            $i = $j;
        }
    }
}

# Record what Net::POP3 read in its last multi-line response (for CAPA's order).
my $last_lines;
{
    no warnings 'redefine';
    my $orig = \&Net::Cmd::read_until_dot;
    *Net::Cmd::read_until_dot = sub { my $r = $orig->(@_); $last_lines = $r; $r };
}

my $host = $ENV{POP3_CONFORM_HOST};
my $port = $ENV{POP3_CONFORM_PORT};
my $cafile = $ENV{POP3_CONFORM_CAFILE};
my $timeout = $ENV{POP3_CONFORM_TIMEOUT} || 5;
my ($pop, $last, $auth, $tls, $insecure, $verify_name, $na_option, $no_ir, $capa_known) =
    (undef, '', 0, 0, 0, undef, undef, 0, 0);

sub option {
    my ($o) = @_;
    my ($k, $v) = split /=/, $o, 2;
    if    ($k eq 'timeout')     { $timeout = $v / 1000 }
    elsif ($k eq 'ca' && $v eq 'other') { $cafile = $ENV{POP3_CONFORM_OTHER_CAFILE} }
    elsif ($k eq 'insecure')    { $insecure = 1 }
    elsif ($k eq 'server-name') { $verify_name = $v }
    elsif ($k eq 'apop')        { }    # apop is always the caller's choice here
    elsif ($k eq 'no-sasl-ir')  { $no_ir = 1 }
    else { $na_option = "Net::POP3 has no option $o" }
}

sub ssl_args {
    return (SSL_verify_mode => 0) if $insecure;
    return (SSL_verify_mode => 1, SSL_ca_file => $cafile,
            SSL_verifycn_name => (defined $verify_name ? $verify_name : $host),
            SSL_verifycn_scheme => 'pop3');
}

# The status line and code for the reply Net::POP3 holds (code() 200 +OK, 300 "+", 500).
sub status {
    my $msg = join('', $pop->message);
    $msg =~ s/\r?\n\z//;
    return ['err closed'] if $pop->code == 421 || !defined fileno($pop);
    my @r = ("err server  # $msg");
    if ($msg =~ /^\[([^\]\s]+)\]/) {
        my @lv = split m{/}, uc $1;
        if ($lv[0] =~ /^(IN-USE|LOGIN-DELAY|AUTH|UTF8)$/) { push @r, "code $lv[0]" }
        elsif ($lv[0] eq 'SYS') {
            push @r, (@lv > 1 && $lv[1] =~ /^(TEMP|PERM)$/) ? "code SYS/$lv[1]" : 'code SYS';
        }
        else { push @r, "code $1" }
    }
    return \@r;
}

# After a call that failed: a server -ERR, the connection gone, or a timeout.
sub failed {
    return ['err state  # not connected'] unless $pop;
    my $code = $pop->code;
    return ['err timeout'] if $pop->status == 0 && $code == 0 && !$pop->message;
    if ($code == 500 && $pop->message && join('', $pop->message) =~ /^Timeout/) {
        return ['err timeout'];
    }
    return ['err closed  # ' . ($pop->message // '')] if !defined fileno($pop);
    return ['err proto  # ' . join('', $pop->message)] if $code == 300;
    return status();
}

sub lines_body {
    my ($ref) = @_;
    return join('', map { my $l = $_; $l =~ s/\n\z/\r\n/; $l } @$ref);
}

sub simple {
    my ($ok) = @_;
    return $ok ? ['ok'] : failed();
}

sub cmd_ok {
    my @cmd = @_;
    return ['err state  # not connected'] unless $pop && defined fileno($pop);
    my $c = $pop->command(@cmd)->response();
    return ['ok'] if $c == 2;    # CMD_OK
    return failed();
}

my @ops;
my %next_auth;    # index of a capa that is answered by the auth() after it

sub run_op {
    my ($idx, $line) = @_;
    my @w = words($line);
    my $op = shift @w;
    return ["n/a $na_option"] if $na_option && $op eq 'connect';
    if ($op ne 'connect' && $op ne 'welcome' && $op ne 'response' && $op ne 'state'
        && $op ne 'close' && !$pop) {
        return ['err state  # not connected'];
    }
    if ($op eq 'connect') {
        my $t = $timeout;
        my $want_tls = grep { $_ eq 'tls' } @w;
        for (@w) { $t = $1 if /^timeout=(\d+)/ }
        $pop = Net::POP3->new($host, Port => $port, Timeout => $t,
                              ($want_tls ? (SSL => 1, ssl_args()) : ()));
        unless ($pop) {
            my $why = $@ || $! || 'no greeting';
            return ["err tls  # $why"]
                if $want_tls && $why =~ /SSL|certificate|verif|hostname|handshake/i;
            return ['err timeout'] if $why =~ /timeout/i;
            return ["err io  # $why"];
        }
        $tls = $want_tls ? 1 : 0;
        $auth = $capa_known = 0;
        return ['ok'];
    }
    if ($op eq 'welcome') {
        my $b = $pop ? $pop->banner : '';
        $b =~ s/\r?\n\z//;
        return ['ok', 'welcome ' . text("+OK $b")];
    }
    if ($op eq 'response') {
        return ["n/a Net::POP3 keeps the reply text without its status indicator"];
    }
    if ($op eq 'capa') {
        if ($idx + 1 < @ops && $ops[$idx + 1] =~ /^auth\b/) {
            $next_auth{$idx + 1} = 1;
            return run_auth($idx + 1, $ops[$idx + 1], 1);
        }
        undef $last_lines;
        $capa_known = 1;
        my $c = $pop->capa;
        return failed() unless $c && $c->{CAPA} && $last_lines;
        return ['ok', map { my $l = $_; $l =~ s/\r?\n\z//; 'cap ' . text($l) } @$last_lines];
    }
    if ($op eq 'auth') {
        return undef if $next_auth{$idx};    # answered with the capa before it
        return ["n/a Net::POP3's auth() always sends CAPA first; the case has no capa before AUTH"];
    }
    if ($op eq 'user') { return simple($pop->user($w[0])) }
    if ($op eq 'pass') {
        (my $rest = $line) =~ s/^pass ?//;
        my $pw = ($rest =~ /^"/ || @w == 1) ? $w[0] : $rest;
        my $r = cmd_ok('PASS', $pw);
        $auth = 1 if $r->[0] eq 'ok';
        return $r;
    }
    if ($op eq 'apop') {
        my ($ts) = ($pop->banner =~ /(<.*>)/);
        return ['err usage  # Net::POP3: no timestamp in the greeting'] unless defined $ts;
        my $r = cmd_ok('APOP', $w[0], md5_hex($ts . $w[1]));
        $auth = 1 if $r->[0] eq 'ok';
        return $r;
    }
    if ($op eq 'stat') {
        my @s = $pop->popstat;
        return failed() unless @s;
        return ['ok', "stat $s[0] $s[1]"];
    }
    if ($op eq 'list' || $op eq 'uidl') {
        my $r = $op eq 'list' ? (@w ? $pop->list($w[0]) : $pop->list)
                              : (@w ? $pop->uidl($w[0]) : $pop->uidl);
        return failed() unless defined $r;
        my $k = $op eq 'list' ? 'msg' : 'uid';
        return ['ok', "$k $w[0] " . text($r)] if @w;
        # the hash loses the order: report in the server's order, from the lines read
        my @out = ('ok');
        for my $l (@{$last_lines || []}) {
            my ($n) = $l =~ /^\s*(\d+)/;
            next unless defined $n && exists $r->{$n};
            push @out, "$k $n " . text($r->{$n});
        }
        return \@out;
    }
    if ($op eq 'retr' || $op eq 'top') {
        my $r = $op eq 'retr' ? $pop->get($w[0]) : $pop->top($w[0], $w[1]);
        return failed() unless defined $r;
        return ['ok', body_line(lines_body($r))];
    }
    if ($op eq 'dele') { return simple($pop->delete($w[0])) }
    if ($op eq 'rset') { return cmd_ok('RSET') }    # reset() returns nothing on success
    if ($op eq 'noop') { return cmd_ok('NOOP') }    # Net::POP3 has no noop(); Net::Cmd's
    if ($op eq 'stls') {
        # as pop3_stls: CAPA when not asked on this connection yet, STLS, and CAPA again
        # under TLS (RFC 2595 section 4: the client discards what it learnt before)
        if (!$capa_known && !$tls) {
            undef $last_lines;
            $pop->capa;
            return failed() unless defined fileno($pop);
        }
        my $ok = eval { $pop->starttls(ssl_args()) };
        if ($ok) { $tls = 1; $pop->capa; return ['ok'] }
        # Net::POP3 refuses STLS on a TLS connection itself, before sending anything
        return ['err state  # ' . ($@ =~ s/ at .*//sr)] if $@ =~ /already in SSL mode/;
        return failed() if $pop->code == 500 && defined fileno($pop) && !$@;
        return ['err tls  # ' . ($@ || $IO::Socket::SSL::SSL_ERROR || 'handshake')];
    }
    if ($op eq 'quit') {
        my $ok = $pop->_QUIT;    # quit() is _QUIT then close, reporting nothing
        my $r = $ok ? ['ok'] : failed();
        $pop->close;
        $auth = 0;
        return $r;
    }
    if ($op eq 'close') { $pop->close if $pop; $auth = 0; return ['ok'] }
    if ($op eq 'raw') { return cmd_ok(@w) }
    if ($op eq 'raw-multi') {
        my $r = cmd_ok(@w);
        return $r unless $r->[0] eq 'ok';
        my $b = $pop->read_until_dot;
        return failed() unless defined $b;
        return ['ok', body_line(lines_body($b))];
    }
    if ($op eq 'state') {
        my $c = $pop && defined fileno($pop) ? 1 : 0;
        return ['ok', 'connected ' . ($c ? 'yes' : 'no'), 'tls ' . ($c && $tls ? 'yes' : 'no'),
                'auth ' . ($c && $auth ? 'yes' : 'no')];
    }
    return ["n/a Net::POP3 has no counterpart of $op"];
}

# auth MECH USER SECRET [authzid=Z]: Authen::SASL with the one mechanism; Net::POP3's
# auth() sends CAPA, then AUTH. With $with_capa the capa's block comes first.
sub run_auth {
    my ($idx, $line, $with_capa) = @_;
    my @w = words($line);
    shift @w;
    my ($mech, $user, $secret, @extra) = @w;
    # Net::POP3's own auth(user, pass) would name the user as authzid too; the case's
    # auth names one only with authzid=
    my %cb = (user => $user, pass => $secret);
    for (@extra) {
        return ["n/a Authen::SASL has no bearer-token mechanism"] if $_ eq 'bearer';
        $cb{authname} = $1 if /^authzid=(.*)/;
    }
    return ["n/a Authen::SASL always sends an initial response"] if $no_ir;
    return ["n/a Authen::SASL::Perl has no $mech"]
        unless $mech =~ /^(PLAIN|LOGIN|CRAM-MD5|DIGEST-MD5|ANONYMOUS|EXTERNAL)$/;
    require Authen::SASL;
    my $sasl = Authen::SASL->new(mechanism => $mech, callback => \%cb);
    undef $last_lines;
    my $ok = $pop->auth($sasl);
    my @capa = ('ok', map { my $l = $_; $l =~ s/\r?\n\z//; 'cap ' . text($l) } @{$last_lines || []});
    my $r = $ok ? ['ok'] : failed();
    $auth = 1 if $ok;
    return [@capa, '.AUTH', @$r];
}

my @input = grep { length } map { s/^\s+|\s+$//gr } <STDIN>;
for (@input) {
    if (/^option (.*)/) { option($1); next }
    push @ops, $_;
}
for my $i (0 .. $#ops) {
    my $r = eval { run_op($i, $ops[$i]) };
    $r = ['err proto  # ' . ($@ =~ s/\n/ /gr)] if $@;
    next unless defined $r;
    my @blocks = split /\n\.AUTH\n/, join("\n", @$r);
    print join("\n", @blocks) . "\n";
    STDOUT->flush;
}
