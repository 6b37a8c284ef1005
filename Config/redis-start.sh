#!/bin/sh
# Starts redis-server in docker-compose.yml's redis service, as the container's user (redis), with the users of
# Config/redis-acl.conf:
# - each placeholder #<NAME_PASSWORD_SHA256> becomes the SHA-256 of $NAME_REDIS_PASSWORD: no password is
#   written anywhere in clear, and the rendered file lives in the container's /tmp, not on the data volume;
# - the `default` user, which redis-cli logs in as inside this container (REDISCLI_AUTH holds the operator's
#   password), gets the operator's rights and password, so `docker compose exec redis redis-cli …` runs the
#   recipes of Docs/redis-cli.md as written, as the operator. Without the password it can do nothing at all.
# Arguments are passed on to redis-server.
set -eu
umask 077

acl_template=/etc/redis/redis-acl.conf
acl=$(mktemp /tmp/users.XXXXXX)

sha256() {
    printf '%s' "$1" | sha256sum | cut -d ' ' -f 1
}

fill=""
for name in ADMIN GATEWAY NOTIFIER KARAOKE GOALS SESSIONS ESCROW TRACKING OPERATOR; do
    eval "password=\${${name}_REDIS_PASSWORD:-}"
    if [ -z "$password" ]; then
        echo "redis-start: ${name}_REDIS_PASSWORD is not set" >&2
        exit 1
    fi
    fill="$fill s|#<${name}_PASSWORD_SHA256>|#$(sha256 "$password")|;"
done
sed -e "$fill" "$acl_template" | grep -v '^user default ' >"$acl.users"
if grep -q '#<' "$acl.users"; then
    echo "redis-start: $acl_template has a placeholder this script does not fill: $(grep -o '#<[^>]*>' "$acl.users" | head -n 1)" >&2
    exit 1
fi
grep '^user operator ' "$acl.users" | sed 's/^user operator /user default /' >"$acl"
if [ ! -s "$acl" ]; then
    echo "redis-start: $acl_template has no operator user to give the default login" >&2
    exit 1
fi
cat "$acl.users" >>"$acl"
rm -f "$acl.users"

exec redis-server --appendonly yes --rdbcompression no --aclfile "$acl" "$@"
