package Dancer2::Session::Redis;
# The Redis session engine from the 2012 article "Dancer 2 sessions: a Redis engine"
# (../shared/reference/dancer-session-redis-2012.txt), written as the article shows: a Moo class
# consuming the SessionFactory role, a lazy `redis` attribute built from `server`/`password`,
# the session id as the key and the session as a JSON string, KEYS for the listing.
# Two things changed since 2012, both forced by the released Dancer2: the role is now
# Dancer2::Core::Role::SessionFactory, and it hands _retrieve/_flush the session's *data*
# (it builds the Session object itself), so _retrieve returns the decoded hash instead of
# blessing it, and _flush stores `$data` instead of `{ %{ $session } }`. No TTL, as in the article.
use Moo;
with 'Dancer2::Core::Role::SessionFactory';

use JSON;
use Redis;
use Dancer2::Core::Types; # brings helper for types

has redis => (
    is      => 'rw',
    isa     => InstanceOf['Redis'],
    lazy    => 1,
    builder => '_build_redis',
);

sub _build_redis {
    my ($self) = @_;
    Redis->new(
        server   => $self->server,
        password => $self->password,
        encoding => undef,
    );
}

has server   => (is => 'ro', required => 1);
has password => (is => 'ro');

sub _retrieve {
    my ($self, $session_id) = @_;
    my $json = $self->redis->get($session_id);
    my $hash = from_json( $json );
    return $hash;
}

sub _flush {
    my ($self, $session_id, $data) = @_;
    my $json = to_json( { %{ $data } } );
    $self->redis->set($session_id, $json);
}

sub _destroy {
    my ($self, $session_id) = @_;
    $self->redis->del($session_id);
}

sub _sessions {
    my ($self) = @_;
    my @keys = $self->redis->keys('*');
    return \@keys;
}

1;
