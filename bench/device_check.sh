#!/usr/bin/env bash
# One call on a lent GPU machine (10 minutes at most): the CUDA tests, the demo there, the
# GPU benchmark (bench/gpu.py), and a profile of the compiled steps with dynamo's graph-break
# and recompile log (bench/gpu_profile.py). The profile runs airbench94 at batch 64, where the
# kernels are small: a step's wall time is then the host's time per step, lamina's against
# the loop's (at batch 1024 their kernels already matched: 15.1 and 15.5 ms per ResNet-18
# step on an H200). Run from the repository root, carrying .devdata/ (MNIST, copied
# from ../shared/datasets) and .whl/ (wheels of keras, namex and optree for the Keras column);
# results go to $OUT when it is set.
set -u
export PYTHONUNBUFFERED=1 LAMINA_DATASETS=$PWD/.devdata
out=${OUT:-/tmp}
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export KERAS_PYTHON=python3
fi
export PYTHONPATH=$PWD:/tmp/site
nvidia-smi --query-gpu=name,power.limit,clocks.max.sm,memory.total --format=csv,noheader
python3 -c "import torch, lamina; print('torch', torch.__version__, torch.cuda.get_device_name())"
timeout "${TESTS_S:-150}" python3 -m pytest -q -p no:cacheprovider -m gpu -rs \
    tests/training/test_gpu.py tests/test_losses.py tests/test_metrics.py \
    tests/optimizers/test_optimizers.py 2>&1 | tee "$out/gpu_tests.txt" | tail -25
timeout "${DEMO_S:-40}" python3 -m lamina demo --epochs 2 --output /tmp/w.safetensors 2>&1 \
    | tr '\r' '\n' | grep -E "Epoch 2|Test accuracy|on cuda" | tee "$out/demo.txt"
timeout "${BENCH_S:-330}" python3 bench/gpu.py --rounds 3 --epochs 1 \
    --models "${MODELS:-airbench94,resnet18}" 2>&1 | tee "$out/gpu_bench.txt" | tail -60
TORCH_LOGS=graph_breaks,recompiles timeout "${PROFILE_S:-60}" python3 bench/gpu_profile.py \
    --models airbench94 --variants "lamina compiled,lamina compiled all guards,loop compiled" --batch 64 --steps 50 \
    >"$out/profile.txt" 2>&1
grep -E "wall|dynamo in" "$out/profile.txt"
