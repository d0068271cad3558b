#!/usr/bin/env bash
# Build one chapter as a small book, strictly (-W -n), to check its page while writing it:
#   tools/build_one.sh notebooks/04_activations.ipynb
# Output: _build/one/<name>/_build/html/notebooks/<name>.html. Notebooks run with the cache.
set -euo pipefail
nb=${1:?usage: tools/build_one.sh notebooks/NN_name.ipynb}
name=$(basename "${nb%.*}")
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/_build/one/$name"
mkdir -p "$out"
cat > "$out/_toc.yml" <<TOC
format: jb-book
root: notebooks/$name
chapters:
  - file: book/glossary
  - file: book/bibliography
TOC
# The local Sphinx extension's path is relative to the config file, so point it at tools/ here.
sed -e 's/execute_notebooks: force/execute_notebooks: cache/' \
    -e "s#offline_assets: book/_ext/#offline_assets: $root/book/_ext/#" "$root/_config.yml" > "$out/_config.yml"
# The vendored MathJax/require.js/widget manager the config refers to (fetched once, from npm).
[ -f "$root/_vendor/html/vendor/mathjax/tex-mml-chtml.js" ] || make -C "$root" vendor
cd "$root"
# Widgets as static explorers (precomputed pictures switched in the browser), as `make book` builds them.
COMPANION_STATIC_WIDGETS=1 "$root/.venv/bin/jupyter-book" build . --toc "$out/_toc.yml" --config "$out/_config.yml" \
  --path-output "$out" -W -n --keep-going
