#!/bin/bash
# Entrypoint of procbeat's locally built Elasticsearch test image.
#
# Mirrors the documented behaviour of the official image that test tools
# (testcontainers-go's elasticsearch module) rely on:
#   - environment variables with dotted lower-case names (discovery.type=...)
#     and ES_SETTING_* names (ES_SETTING_XPACK_SECURITY_ENABLED=...) become
#     -E settings on the command line;
#   - ES_JAVA_OPTS passes through to the launcher unchanged;
#   - ELASTIC_PASSWORD becomes the keystore's bootstrap.password, which is the
#     built-in "elastic" user's password when security is enabled;
#   - "GET /" is answered (by esfront, see there);
#   - Elasticsearch refuses to run as root, so the server runs as the
#     "elasticsearch" user.
set -euo pipefail

es_home=/usr/share/elasticsearch
es_user=elasticsearch

# Anything that is not an option for Elasticsearch runs as a plain command
# (handy for debugging: podman run --rm -it IMAGE bash).
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ] && [ "$1" != "elasticsearch" ] && [ "$1" != "eswrapper" ]; then
	exec "$@"
fi
if [ $# -gt 0 ] && { [ "$1" = "elasticsearch" ] || [ "$1" = "eswrapper" ]; }; then
	shift
fi

as_es_user() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid="$es_user" --regid="$es_user" --init-groups -- "$@"
	else
		"$@"
	fi
}

settings=()
security_disabled=false
while IFS= read -r -d '' entry; do
	name=${entry%%=*}
	value=${entry#*=}
	setting=""
	if [[ "$name" =~ ^[a-z0-9_]+\.[a-z0-9_.]+$ ]]; then
		setting=$name
	elif [[ "$name" =~ ^ES_SETTING_[A-Z0-9_]+$ ]]; then
		# ES_SETTING_FOO__BAR_BAZ -> foo_bar.baz ("__" is a literal "_").
		setting=${name#ES_SETTING_}
		setting=${setting,,}
		setting=${setting//__/$'\x01'}
		setting=${setting//_/.}
		setting=${setting//$'\x01'/_}
	fi
	if [ -n "$setting" ]; then
		settings+=("-E${setting}=${value}")
		if [ "$setting" = "xpack.security.enabled" ] && [ "$value" = "false" ]; then
			security_disabled=true
		fi
	fi
done < <(env -0)

if [ -n "${ELASTIC_PASSWORD:-}" ] && [ "$security_disabled" = false ]; then
	keystore="$es_home/bin/elasticsearch-keystore"
	if [ ! -f "$es_home/config/elasticsearch.keystore" ]; then
		as_es_user "$keystore" create >/dev/null
	fi
	printf '%s' "$ELASTIC_PASSWORD" | as_es_user "$keystore" add -x -f bootstrap.password >/dev/null
fi
# The password must not leak into the server's environment (_nodes output).
unset ELASTIC_PASSWORD

# esfront answers "GET /" (missing from this distribution) on :9200 and
# forwards everything else to Elasticsearch on 127.0.0.1:9201. It ends with
# the container, whose main process Elasticsearch becomes below.
as_es_user /usr/local/bin/esfront -listen :9200 -upstream http://127.0.0.1:9201 &

cd "$es_home"
if [ "$(id -u)" -eq 0 ]; then
	exec setpriv --reuid="$es_user" --regid="$es_user" --init-groups -- \
		"$es_home/bin/elasticsearch" "${settings[@]}" "$@"
fi
exec "$es_home/bin/elasticsearch" "${settings[@]}" "$@"
