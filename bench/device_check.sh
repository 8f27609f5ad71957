#!/usr/bin/env bash
# One call on a lent GPU machine: CUDA tests, the demo's speed and the fit benchmark there.
# Run from the repository root with MNIST in .devdata/ (copied from ../shared/datasets).
set -u
export PYTHONPATH=$PWD LAMINA_DATASETS=$PWD/.devdata
nvidia-smi --query-gpu=name,power.limit,memory.total --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
timeout 120 python3 -m pytest -q -p no:cacheprovider tests/training/test_gpu.py \
    tests/training/test_fit.py 2>&1 | tail -4
timeout 90 python3 -m lamina demo --epochs 4 --output /tmp/w.safetensors 2>&1 \
    | tr '\r' '\n' | grep -E "Epoch 4|Test accuracy|on cuda"
timeout 150 python3 bench/cpu_fit.py --rounds 3 2>&1 | tail -6
