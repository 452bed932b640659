#!/bin/bash
# Healthy = the store root answers (2xx/3xx) and /oauth/token/request answers an oauth_problem (the OAuth
# endpoints are reached through PHP). A start the entrypoint gave up on prints FATAL: roles/magento_stack
# stops waiting when it sees that word.
if [ -f /run/reintegrate-fatal ]; then cat /run/reintegrate-fatal; exit 1; fi
if [ ! -f /run/reintegrate-ready ]; then echo "starting (setup:install on a first start)"; exit 1; fi
scheme=${MAGENTO_BASE_URL%%://*}
rest=${MAGENTO_BASE_URL#*://}
authority=${rest%%/*}
path=/${rest#*/}
port=${MAGENTO_LISTEN##*:}
url="http://127.0.0.1:${port}${path}"
headers=(-H "Host: ${authority}" -H "X-Forwarded-Proto: ${scheme}")
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 50 "${headers[@]}" "$url") || code=000
case "$code" in
  2*|3*) ;;
  *) echo "store root ${MAGENTO_BASE_URL} answered HTTP ${code}"; exit 1 ;;
esac
# GET, not POST: Magento saves a customer_visitor row for every POST to a frontend controller (safe methods
# are skipped), so a POST every 5 s would fill that table and change the store under every test.
body=$(curl -s --max-time 30 "${headers[@]}" "${url}oauth/token/request") || body=
case "$body" in
  *oauth_problem=*) echo "ok: store root HTTP ${code}, /oauth/token/request answers oauth_problem" ;;
  *) echo "/oauth/token/request did not answer an oauth_problem: ${body:0:200}"; exit 1 ;;
esac
