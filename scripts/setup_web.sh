#!/usr/bin/env bash
# Installs the sao web client (pinned in web/package-lock.json) inside the
# project and makes it servable by trytond's [web] root.
set -euo pipefail
cd "$(dirname "$0")/../web"
stamp=node_modules/.monitorbizz-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
    echo "==> Installing the web client (npm ci, tryton-sao pinned in web/package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error
    touch "$stamp"
fi
sao=node_modules/tryton-sao
# sao's index.html loads its libraries from node_modules/ inside its own
# folder, while npm puts them beside it.
ln -sfn .. "$sao/node_modules"
ln -sf ../../custom.js "$sao/custom.js"
ln -sf ../../custom.css "$sao/custom.css"
test -f "$sao/node_modules/jquery/dist/jquery.js"
