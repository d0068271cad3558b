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
sed -e 's/execute_notebooks: force/execute_notebooks: cache/' "$root/_config.yml" > "$out/_config.yml"
cd "$root"
"$root/.venv/bin/jupyter-book" build . --toc "$out/_toc.yml" --config "$out/_config.yml" \
  --path-output "$out" -W -n --keep-going
