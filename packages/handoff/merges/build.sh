#!/bin/bash
# Build step of a DigitalOcean Functions Python function. Written by `sxe package`;
# edit the template in sxe/runtime/packaging.py instead of this file.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -f ../../../lib/sxe/__init__.py ]; then
    echo "lib/sxe is missing: run 'sxe package' in the project folder before deploying" >&2
    exit 1
fi

rm -rf virtualenv
virtualenv --without-pip virtualenv
pip install --quiet --no-cache-dir -r requirements.txt --target virtualenv/lib/python3.11/site-packages
