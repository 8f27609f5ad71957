"""`jit_compile`: how the steps go through `torch.compile`. A code object per model,
inductor's options, cuDNN autotuning, and which of dynamo's guards each call of a compiled
step evaluates.

Before each call of a compiled function dynamo checks its guards: the metadata of every
tensor the trace read, and every Python value it read (each layer's attributes, methods,
configuration), some thousands for a ResNet. On a CPU that took 0.1 to 0.7 ms per step in
lamina's measurements: nothing beside a step that keeps a GPU busy for 15 ms, but a tenth of
a short one, such as airbench94's on an H100, which the host's time per step bounds.

Keras' compiled train function reads the layers' Python attributes once, when it is
traced. lamina evaluates all the guards on the first compiled call of each pass (an epoch
of `fit`, one `evaluate` or `predict`) and, on the later calls of the pass, only those
that tell its compiled graphs apart: the shapes, dtypes, devices and strides of the input
and buffer tensors (`torch.compiler.set_stance(skip_guard_eval_unsafe=True)`). It does so
only when nothing but lamina runs between two steps: no callback with batch hooks other
than lamina's read-only ones (the progress bar, checkpoints, TerminateOnNaN), and not in a
distributed padding step. So a change to a layer's Python attribute (a dropout rate, a flag
its `call` tests) made by a data generator in the middle of an epoch takes effect at the
next epoch; one made by a batch callback, at once, as in eager mode. A step that dynamo
splits at graph breaks, or a stance the user set (`torch.compiler.set_stance`), keeps
every guard.

>>> passes = GuardPasses()
>>> passes.begin(0, light=True)
>>> passes.call(0, lambda v: v + 1, 1)  # the pass's first call: every guard
2
>>> passes.end(0)
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import types
from collections.abc import Iterator
from typing import Any

import torch
import torch._functorch.config as functorch_config

from ..layers.batch_normalization import in_padding_step

_LOG = logging.getLogger("lamina.training")

__all__ = [
    "GuardPasses",
    "compile_step",
    "conv_layers",
    "cudnn_autotune",
    "inductor_options",
    "light_guards_supported",
    "with_own_code",
]


def light_guards_supported() -> bool:
    """Whether this torch can skip the guards that do not tell compiled graphs apart
    (`torch.compiler.set_stance(..., skip_guard_eval_unsafe=True)`, torch 2.6 and later)."""
    set_stance = getattr(torch.compiler, "set_stance", None)
    if set_stance is None:
        return False
    try:
        return "skip_guard_eval_unsafe" in inspect.signature(set_stance).parameters
    except (TypeError, ValueError):
        return False


def _default_stance() -> bool:
    """Whether the user left dynamo's stance alone (a 'force_eager' or other stance they set
    is kept: lamina then evaluates every guard)."""
    stance = getattr(torch._dynamo.eval_frame, "_stance", None)
    return (
        stance is not None
        and getattr(stance, "stance", None) == "default"
        and not getattr(stance, "skip_guard_eval_unsafe", True)
        and getattr(stance, "backend", None) is None
    )


_STEPS = {"train": 0, "test": 1, "predict": 2}  # the steps' indices in the trainer


class GuardPasses:
    """Per compiled step (0 train, 1 test, 2 predict): whether its next call evaluates all
    of dynamo's guards or only the tensors' (see the module's docstring)."""

    _FIRST, _LIGHT = "first", "light"

    def __init__(self) -> None:
        self._states: dict[int, str] = {}
        self._split: set[int] = set()  # steps traced with graph breaks
        self._supported = light_guards_supported()

    def begin(self, index: int, light: bool) -> None:
        """A pass of step `index` starts: its first call checks every guard; the later ones
        only the tensors', if `light` (no batch hook may change the model between steps)."""
        if light and self._supported:
            self._states[index] = self._FIRST
        else:
            self._states.pop(index, None)

    def end(self, index: int) -> None:
        """The pass is over: calls outside one (train_on_batch, a model call) check all."""
        self._states.pop(index, None)

    @contextlib.contextmanager
    def during(self, mode: str, callbacks: Any) -> Iterator[None]:
        """Within: a pass of the 'train', 'test' or 'predict' step, light after its first
        call if `callbacks` (a CallbackList) run no batch hook that may change the model."""
        index = _STEPS[mode]
        self.begin(index, callbacks.batch_hooks_read_only(mode))
        try:
            yield
        finally:
            self.end(index)

    def light(self, index: int) -> bool:
        """Whether the next call of step `index` checks only the tensors' guards."""
        return (
            self._states.get(index) == self._LIGHT
            and index not in self._split
            and not in_padding_step()  # a global the synchronized batch norm reads
            and _default_stance()
        )

    def call(self, index: int, compiled: Any, *args: Any) -> Any:
        """`compiled(*args)`, with the guards this pass allows. When the tensors' guards
        fail (new input shapes), dynamo refuses to recompile under the light stance before
        it runs anything; the call is then made again with every guard, and recompiles."""
        if self.light(index):
            try:
                with torch.compiler.set_stance("default", skip_guard_eval_unsafe=True):
                    return compiled(*args)
            except RuntimeError as error:
                if "skip_guard_eval_unsafe" not in str(error):
                    raise
                _LOG.debug("lamina: step %d recompiles for new tensors, with every guard", index)
        watch = index in self._states  # a pass that may go light: does tracing split it?
        breaks = _graph_breaks() if watch else 0
        outputs = compiled(*args)
        if watch and _graph_breaks() != breaks:
            # A step split by graph breaks runs several frames, and a later one could refuse
            # to recompile after the first had run: such a step always checks every guard.
            self._split.add(index)
        if self._states.get(index) == self._FIRST:
            self._states[index] = self._LIGHT
        return outputs


def _graph_breaks() -> int:
    """How many graph breaks dynamo has met in this process (they happen while tracing)."""
    from torch._dynamo.utils import counters

    return sum(counters["graph_break"].values())


def conv_layers(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The modules that own a 4-D parameter: 2-D convolution kernels."""
    return [m for m in model.modules() if any(p.ndim == 4 for p in m.parameters(recurse=False))]


def with_own_code(method: Any) -> Any:
    """`method`, bound to the same object, through a function with a code object of its
    own. dynamo keeps compiled graphs per code object, at most `recompile_limit` (8) of
    them: shared by every model of a process, the steps of the ninth model of another
    structure ran eagerly (with a log warning). Each model now compiles its own steps, as
    Keras compiles each model's train function."""
    func = method.__func__
    copy = types.FunctionType(
        func.__code__.replace(),
        func.__globals__,
        func.__name__,
        func.__defaults__,
        func.__closure__,
    )
    copy.__qualname__, copy.__kwdefaults__ = func.__qualname__, func.__kwdefaults__
    return types.MethodType(copy, method.__self__)


def inductor_options(model: torch.nn.Module, cuda_graphs: bool) -> dict[str, Any]:
    """`torch.compile` options for the steps. With cuda_graphs, inductor's CUDA-graph mode
    ('reduce-overhead': cudagraph trees). For channels_last image layers, no layout
    optimization: inductor would give every 4-D tensor next to a convolution NCHW's
    channels_last strides, which for lamina's (N, H, W, C) tensors means an (N, W, C, H)
    memory order and a copy before each convolution (ResNet-18 on an H200: 24 ms of kernels
    per step against 15.5 ms eager). Without it, the compiled step keeps the eager strides:
    NHWC memory, which the convolutions read as channels_last views. The optimization
    concerns 4-D tensors: layers with 2-D kernels decide."""
    options: dict[str, Any] = {"triton.cudagraphs": True} if cuda_graphs else {}
    if any(getattr(m, "data_format", None) == "channels_last" for m in conv_layers(model)):
        options["layout_optimization"] = False
    return options


def compile_step(step: Any, options: dict[str, Any], device: torch.device) -> Any:
    """`torch.compile(step)` with inductor and `options`. On the CPU, AOTAutograd's
    partitioner recomputes views in the backward graph instead of saving them
    (`torch._functorch.config.recompute_views`).

    Why: lamina's layers hand convolutions an NCHW view of their (N, H, W, C) tensors, so
    the graph holds each activation twice, as the tensor and as its permuted view. The
    partitioner counts them as two tensors; rather than save both, it saved the view for
    the convolution's backward and, for the ReLU's backward, a bool mask computed in the
    forward graph. Inductor's C++ kernels store such masks slowly (7 ns per element on a
    2-core CPU): ResNet-8's generated kernels (forward and backward graphs) took 131 ms per
    step, against 39 ms with views recomputed (the activation itself is then saved and the
    mask computed in the backward, as for a plain PyTorch model). Compiled fit went from
    463 to 742-758 images/s, eager being 696-733. On CUDA the partitioner keeps torch's
    default: there lamina's compiled kernels already took the loop's time (15.1 against
    15.5 ms per ResNet-18 step on an H200, bench/gpu_profile.py).

    >>> step = compile_step(lambda v: v + 1, {}, torch.device("cpu"))  # compiles when called
    >>> callable(step)
    True
    """
    if device.type == "cpu" and hasattr(functorch_config, "recompute_views"):
        return torch.compile(step, backend=_InductorRecomputingViews(options))
    return torch.compile(step, options=options or None)


class _InductorRecomputingViews:
    """A torch.compile backend: inductor, its partitioner told to recompute views. The
    partition is made when the forward graph compiles, inside this call."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = dict(options)

    def __call__(self, graph: torch.fx.GraphModule, example_inputs: Any) -> Any:
        from torch._inductor.compile_fx import compile_fx

        with functorch_config.patch(recompute_views=True):
            return compile_fx(graph, example_inputs, config_patches=self.options)


def cudnn_autotune(model: torch.nn.Module) -> bool:
    """Let cuDNN time its convolution algorithms for each new input shape and keep the
    fastest (`torch.backends.cudnn.benchmark`), as Keras' TensorFlow backend does by default;
    left off when the user asked for deterministic algorithms (`torch.use_deterministic_
    algorithms(True)` or `torch.backends.cudnn.deterministic = True`). Returns whether it is on.
    """
    deterministic = (
        torch.are_deterministic_algorithms_enabled() or torch.backends.cudnn.deterministic
    )
    has_conv = any(p.ndim >= 3 for p in model.parameters())  # Conv1D/2D/3D kernels
    if has_conv and not deterministic and not torch.backends.cudnn.benchmark:
        torch.backends.cudnn.benchmark = True
        _LOG.debug("lamina: cuDNN autotuning on (torch.backends.cudnn.benchmark = True)")
    return torch.backends.cudnn.benchmark
