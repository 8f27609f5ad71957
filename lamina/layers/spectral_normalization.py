"""SpectralNormalization: a wrapper that divides a layer's kernel by its largest singular value.

Spectral normalization (Miyato et al., "Spectral Normalization for Generative Adversarial
Networks", 2018) bounds the Lipschitz constant of a layer, which steadies GAN discriminators.
The largest singular value is estimated by power iteration with a persistent vector `u`.

>>> import torch
>>> from lamina.layers.core import Dense
>>> _ = torch.manual_seed(0)  # u starts random: a few power iterations settle it
>>> layer = SpectralNormalization(Dense(3), power_iterations=5)
>>> layer(torch.ones(2, 4), training=True).shape
torch.Size([2, 3])
>>> float(torch.linalg.matrix_norm(layer.kernel.detach(), ord=2)) < 1.5
True
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from .. import config as lamina_config
from .. import initializers
from ._weights import _WeightInfo
from .layer import Layer, Shape
from .recurrent_wrappers import _deserialize, _serialize, _Wrapper

__all__ = ["SpectralNormalization"]


def _l2_normalize(x: torch.Tensor) -> torch.Tensor:
    """x divided by its L2 norm over all entries; the inverse norm is capped at 1/epsilon, so a
    zero vector stays zero (Keras' normalize with axis=None)."""
    inverse_norm = torch.rsqrt(x.square().sum()).clamp(max=1.0 / lamina_config.epsilon())
    return x * inverse_norm


class SpectralNormalization(_Wrapper):
    """Wraps a layer with a `kernel` (Dense, Conv...) or `embeddings` (Embedding) and keeps
    that matrix divided by its spectral norm.

    On every call with `training=True`, `power_iterations` steps of power iteration refine the
    vector `u` (a non-trainable weight of shape (1, last kernel axis)), the spectral norm
    `sigma` of the kernel, seen in Keras' layout as a matrix (-1, last axis), is estimated from
    it, and the kernel is overwritten with `kernel / sigma` before the wrapped layer runs. The
    gradient then reaches the normalized kernel directly (not through `sigma`), as in Keras. An
    all-zero kernel is left as it is. Calls in inference use the kernel as it was last
    normalized, without changing it.

    Args:
        layer: the layer to wrap, e.g. `Dense(64)` or `Conv2D(32, 3)`.
        power_iterations: power-iteration steps per training call (a positive int).

    Weights are listed as in Keras: the kernel, `vector_u`, then the wrapped layer's others.

    Input shape:
        the wrapped layer's.
    Output shape:
        the wrapped layer's.

    >>> import torch
    >>> from lamina.layers.convolution import Conv2D
    >>> layer = SpectralNormalization(Conv2D(2, 3), power_iterations=2)
    >>> layer(torch.ones(1, 5, 5, 1), training=True).shape, tuple(layer.vector_u.shape)
    (torch.Size([1, 3, 3, 2]), (1, 2))
    """

    weight_names = ("kernel", "vector_u")

    def __init__(self, layer: Layer, power_iterations: int = 1, **kwargs: Any) -> None:
        super().__init__(layer, **kwargs)
        if (
            not isinstance(power_iterations, int)
            or isinstance(power_iterations, bool)
            or power_iterations <= 0
        ):
            raise ValueError(
                f"SpectralNormalization '{self.name}': power_iterations must be an int greater "
                f"than zero; got {power_iterations!r}"
            )
        self.layer = layer
        self.power_iterations = power_iterations
        self._kernel_name: str | None = None

    # ---------------------------------------------------------------- the wrapped kernel

    def _find_kernel(self) -> str:
        """The state_dict name of the wrapped layer's kernel (or embeddings)."""
        layer = self.layer
        for keras_name in ("kernel", "embeddings"):
            torch_name = layer._keras_aliases.get(keras_name, keras_name)
            if torch_name in layer._weight_info:
                return torch_name
        raise ValueError(
            f"SpectralNormalization '{self.name}': the wrapped {type(layer).__name__} "
            f"'{layer.name}' has no 'kernel' nor 'embeddings' weight; wrap a layer such as "
            "Dense, Conv2D or Embedding"
        )

    @property
    def kernel(self) -> torch.Tensor:
        """The wrapped layer's kernel (PyTorch's layout), the tensor that is normalized."""
        if self._kernel_name is None:
            raise AttributeError("kernel")  # Layer.__getattr__ explains: not built yet
        return getattr(self.layer, self._kernel_name)

    @property
    def _kernel_info(self) -> _WeightInfo:
        return self.layer._weight_info[str(self._kernel_name)]

    @property
    def kernel_shape(self) -> tuple[int, ...]:
        """The kernel's shape in Keras' layout (a Dense kernel is (input_dim, units))."""
        return self._kernel_info.keras_shape(tuple(self.kernel.shape))

    def build(self, input_shape: Shape) -> None:
        self.layer._maybe_build(input_shape)
        self._kernel_name = self._find_kernel()
        self.add_weight(
            "vector_u",
            (1, self.kernel_shape[-1]),
            initializers.TruncatedNormal(stddev=0.02),
            trainable=False,
        )

    def _all_weights(self) -> list[tuple[Any, str, torch.Tensor, _WeightInfo]]:
        # Keras tracks the kernel as the wrapper's own first weight: kernel, vector_u, others.
        entries = super()._all_weights()
        if self._kernel_name is None:
            return entries
        kernel = self.kernel
        return [e for e in entries if e[2] is kernel] + [e for e in entries if e[2] is not kernel]

    # ---------------------------------------------------------------- computation

    def normalized_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The refined `u` (1, n) and the kernel divided by its estimated spectral norm (in
        PyTorch's layout), without assigning them; no gradient flows through them."""
        with torch.no_grad():
            kernel = self.kernel
            matrix = self._kernel_info.to_keras(kernel).reshape(-1, self.kernel_shape[-1])
            u = self.vector_u.to(matrix.dtype)
            v = u
            for _ in range(self.power_iterations):
                v = _l2_normalize(u @ matrix.T)
                u = _l2_normalize(v @ matrix)
            sigma = (v @ matrix) @ u.T
            return u.to(self.vector_u.dtype), (kernel / sigma).to(kernel.dtype)

    def _normalize_kernel(self) -> None:
        """Assign the normalized kernel and `u` (no host synchronisation: an all-zero kernel is
        kept by a `where`, not a Python branch)."""
        new_u, new_kernel = self.normalized_weights()
        with torch.no_grad():
            kernel = self.kernel
            all_zero = (kernel == 0).all()
            self.vector_u.copy_(torch.where(all_zero, self.vector_u, new_u))
            kernel.copy_(torch.where(all_zero, kernel, new_kernel))

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if training:
            self._normalize_kernel()
        outputs = self.layer(inputs, training=training)
        if (
            isinstance(inputs, torch.Tensor)
            and isinstance(outputs, torch.Tensor)
            and inputs.is_floating_point()
            and outputs.dtype != inputs.dtype
        ):
            outputs = outputs.to(inputs.dtype)  # Keras returns the input's float type
        return outputs

    # ---------------------------------------------------------------- config

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(layer=_serialize(self.layer), power_iterations=self.power_iterations)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SpectralNormalization:
        """Rebuild from `get_config()`'s output (the wrapped layer from its entry)."""
        config = copy.deepcopy(config)
        config["layer"] = _deserialize(config["layer"])
        return cls(**config)
