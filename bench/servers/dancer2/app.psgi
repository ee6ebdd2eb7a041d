# The seed's own stack: Dancer2 on Starman, sessions in Redis through the article's engine
# (lib/Dancer2/Session/Redis.pm), with the same three routes as every bench server:
# /hello never touches the session, /read returns key n (0 if none), /write increments n.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Dancer2;

my $port = $ENV{BENCH_REDIS_PORT} or die "BENCH_REDIS_PORT is not set: start bench servers through `tsx bench/run.ts`\n";
set logger      => 'null';
set show_errors => 0;
set engines     => { session => { Redis => { server => "127.0.0.1:$port" } } };
set session     => 'Redis';

get '/hello' => sub { 'hello' };
get '/read'  => sub { session('n') // 0 };
get '/write' => sub {
    session n => (session('n') // 0) + 1;
    'ok';
};

to_app;
