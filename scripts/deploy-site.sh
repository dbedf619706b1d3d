#!/usr/bin/env bash
# After `sam deploy` of a stack with DeploySite=true: uploads the SPA (web/dist, built with
# VITE_API_URL=/) to the stack's site bucket, invalidates the distribution, and checks the site:
# the SPA, the API through it, and that the site's origin is in ALLOWED_ORIGINS (without
# SiteDomain that is the *.cloudfront.net domain, written into samconfig.toml's AllowedOrigins
# after the first deploy; see docs/deploy.md, Deployment modes).
#
# Usage: scripts/deploy-site.sh <stack-name> [dist-dir]     (AWS credentials from the caller)
# Writes site_url=... to $GITHUB_OUTPUT when it is set.
set -euo pipefail
stack="${1:?usage: $0 <stack-name> [dist-dir]}"
dist="${2:-web/dist}"
[ -f "$dist/index.html" ] || { echo "deploy-site: no $dist/index.html (cd web && npm ci && VITE_API_URL=/ npm run build)" >&2; exit 1; }

output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
bucket="$(output SiteBucketName)"
distribution="$(output SiteDistributionId)"
site_url="$(output SiteUrl)"
if [ -z "$bucket" ] || [ "$bucket" = None ]; then
  echo "deploy-site: $stack has no site (DeploySite=false): nothing to upload" >&2
  exit 0
fi

# Hashed assets never change under their name: cached for a year. index.html names the current
# assets: revalidated on every load, so a deploy is live once the invalidation has run. New
# assets go up before the index.html that names them; stale ones are deleted last.
aws s3 sync "$dist" "s3://$bucket" --only-show-errors --exclude index.html \
  --cache-control "public, max-age=31536000, immutable"
aws s3 cp "$dist/index.html" "s3://$bucket/index.html" --only-show-errors \
  --cache-control "no-cache" --content-type "text/html; charset=utf-8"
aws s3 sync "$dist" "s3://$bucket" --only-show-errors --delete --exclude index.html \
  --cache-control "public, max-age=31536000, immutable"
invalidation="$(aws cloudfront create-invalidation --distribution-id "$distribution" --paths "/*" \
  --query Invalidation.Id --output text)"
echo "deploy-site: uploaded $dist to $bucket; waiting for invalidation $invalidation" >&2
aws cloudfront wait invalidation-completed --distribution-id "$distribution" --id "$invalidation"

[ -z "${GITHUB_OUTPUT:-}" ] || echo "site_url=$site_url" >> "$GITHUB_OUTPUT"

echo "deploy-site: checking $site_url" >&2
curl --fail --silent --show-error --retry 5 --retry-all-errors "$site_url/" | grep -q '<div id="app">'
curl --fail --silent --show-error --retry 5 --retry-all-errors "$site_url/v1/health" >/dev/null
# Without a cookie, refresh answers 401 to an allowed Origin and 403 to any other.
status="$(curl --silent --output /dev/null --write-out '%{http_code}' -X POST \
  -H "Origin: $site_url" -H "Sec-Fetch-Site: same-origin" "$site_url/v1/auth/refresh")"
if [ "$status" != 401 ]; then
  echo "deploy-site: POST /v1/auth/refresh from the site answered $status, not 401: add $site_url to" \
    "AllowedOrigins of $stack (samconfig.toml) and deploy again" >&2
  exit 1
fi
echo "deploy-site: $site_url serves the SPA and the API on one origin" >&2
