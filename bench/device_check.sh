#!/usr/bin/env bash
# One call on a lent GPU machine (10 minutes at most): the CUDA tests, the demo there, and the
# GPU benchmark (bench/gpu.py). Run from the repository root with MNIST in .devdata/ (copied
# from ../shared/datasets, carried with the call); results go to $OUT when it is set.
set -u
export PYTHONPATH=$PWD LAMINA_DATASETS=$PWD/.devdata
out=${OUT:-/tmp}
nvidia-smi --query-gpu=name,power.limit,memory.total --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
timeout 200 python3 -m pytest -q -p no:cacheprovider tests/training/test_gpu.py \
    tests/training/test_fit.py 2>&1 | tail -6
timeout 60 python3 -m lamina demo --epochs 2 --output /tmp/w.safetensors 2>&1 \
    | tr '\r' '\n' | grep -E "Epoch 2|Test accuracy|on cuda"
timeout 300 python3 bench/gpu.py 2>&1 | tee "$out/gpu_bench.txt" | tail -40
