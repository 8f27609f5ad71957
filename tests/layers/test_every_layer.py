"""The contract harness applied to every public layer class, plus one fit step in a model.

Adding a layer to `lamina.layers` without a row here fails `test_every_layer_has_a_case`.
"""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.testing import check_layer

# class -> (constructor arguments, input shape, expected output shape)
CASES = {
    "ContrastLimitedAdaptiveHistogramEqualization": (
        {"value_range": [-5, 5], "clip_limit": 40.0, "tile_grid_size": [2, 2]},
        (2, 8, 8, 3),
        (2, 8, 8, 3),
    ),
    "MaxNumBoundingBoxes": ({"max_number": 3}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "MelSpectrogram": (
        {"fft_length": 16, "sequence_stride": 4, "num_mel_bins": 5},
        (2, 30),
        (2, 5, 8),
    ),
    "STFTSpectrogram": ({"frame_length": 8, "frame_step": 4}, (2, 20, 2), (2, 4, 10)),
    "RandomElasticTransform": ({"value_range": [-5, 5], "seed": 1}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomPerspective": ({"scale": 0.5, "seed": 1}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomShear": (
        {"x_factor": 0.3, "y_factor": (0.1, 0.2), "seed": 1},
        (2, 8, 8, 3),
        (2, 8, 8, 3),
    ),
    "Discretization": ({"bin_boundaries": [-0.5, 0.0, 0.5]}, (2, 5), (2, 5)),
    "AugMix": (
        {"value_range": [-5, 5], "num_chains": 2, "chain_depth": 2, "seed": 1},
        (2, 8, 8, 3),
        (2, 8, 8, 3),
    ),
    "AutoContrast": ({"value_range": [-5, 5]}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "Equalization": ({"value_range": [-5, 5], "bins": 64}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandAugment": ({"value_range": [-5, 5], "num_ops": 3, "seed": 1}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomColorDegeneration": (
        {"factor": 0.5, "value_range": [-5, 5]},
        (2, 8, 8, 3),
        (2, 8, 8, 3),
    ),
    "RandomColorJitter": (
        {"value_range": [-5, 5], "brightness_factor": 0.2, "hue_factor": 0.2, "seed": 2},
        (2, 8, 8, 3),
        (2, 8, 8, 3),
    ),
    "RandomGaussianBlur": (
        {"kernel_size": (3, 5), "sigma": (0.5, 1.5)},
        (2, 8, 8, 3),
        (2, 8, 8, 3),
    ),
    "RandomGrayscale": ({"factor": 1.0, "seed": 1}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomHue": ({"factor": 0.5, "value_range": [-5, 5]}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomInvert": ({"factor": 0.5, "value_range": [-5, 5]}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomPosterization": ({"factor": 4, "value_range": [-5, 5]}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomSaturation": (
        {"factor": (0.2, 0.8), "value_range": [-5, 5]},
        (2, 8, 8, 3),
        (2, 8, 8, 3),
    ),
    "RandomSharpness": ({"factor": 0.5, "value_range": [-5, 5]}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "Solarization": (
        {"addition_factor": 0.2, "threshold_factor": (0.3, 0.6)},
        (2, 8, 8, 3),
        (2, 8, 8, 3),
    ),
    "ConvLSTM1D": ({"filters": 2, "kernel_size": 3}, (2, 3, 6, 2), (2, 4, 2)),
    "ConvLSTM2D": (
        {"filters": 2, "kernel_size": 3, "padding": "same"},
        (2, 3, 5, 5, 2),
        (2, 5, 5, 2),
    ),
    "ConvLSTM3D": ({"filters": 2, "kernel_size": 2}, (2, 2, 3, 3, 3, 1), (2, 2, 2, 2, 2)),
    "RNN": ({"cell": layers.LSTMCell(3), "return_sequences": True}, (2, 4, 3), (2, 4, 3)),
    "AdaptiveAveragePooling1D": ({"output_size": 3}, (2, 7, 3), (2, 3, 3)),
    "AdaptiveAveragePooling2D": ({"output_size": (3, 2)}, (2, 7, 5, 2), (2, 3, 2, 2)),
    "AdaptiveAveragePooling3D": ({"output_size": (2, 3, 2)}, (1, 5, 4, 3, 2), (1, 2, 3, 2, 2)),
    "AdaptiveMaxPooling1D": ({"output_size": 3}, (2, 7, 3), (2, 3, 3)),
    "AdaptiveMaxPooling2D": ({"output_size": 2}, (2, 7, 5, 2), (2, 2, 2, 2)),
    "AdaptiveMaxPooling3D": ({"output_size": 2}, (1, 5, 4, 3, 2), (1, 2, 2, 2, 2)),
    "AlphaDropout": ({"rate": 0.3, "seed": 2}, (2, 5), (2, 5)),
    "EinsumDense": (
        {"equation": "abc,cde->abde", "output_shape": (4, 2, 3), "bias_axes": "de"},
        (2, 4, 5),
        (2, 4, 2, 3),
    ),
    "RMSNormalization": ({}, (2, 3, 5), (2, 3, 5)),
    "UnitNormalization": ({}, (2, 5), (2, 5)),
    "Activation": ({"activation": "relu"}, (2, 5), (2, 5)),
    "ActivityRegularization": ({"l1": 0.01}, (2, 5), (2, 5)),
    "AveragePooling1D": ({"pool_size": 2}, (2, 8, 3), (2, 4, 3)),
    "AveragePooling2D": ({"pool_size": 2}, (2, 8, 8, 3), (2, 4, 4, 3)),
    "AveragePooling3D": ({"pool_size": 2}, (2, 4, 4, 4, 3), (2, 2, 2, 2, 3)),
    "BatchNormalization": ({}, (4, 6, 6, 3), (4, 6, 6, 3)),
    "CenterCrop": ({"height": 6, "width": 5}, (2, 8, 8, 3), (2, 6, 5, 3)),
    "Conv1D": ({"filters": 4, "kernel_size": 3}, (2, 10, 3), (2, 8, 4)),
    "Conv1DTranspose": ({"filters": 4, "kernel_size": 3, "strides": 2}, (2, 5, 3), (2, 11, 4)),
    "Conv2D": ({"filters": 6, "kernel_size": 5}, (2, 32, 32, 3), (2, 28, 28, 6)),
    "Conv2DTranspose": (
        {"filters": 4, "kernel_size": 3, "strides": 2},
        (2, 5, 5, 3),
        (2, 11, 11, 4),
    ),
    "Conv3D": ({"filters": 4, "kernel_size": 3}, (2, 5, 5, 5, 2), (2, 3, 3, 3, 4)),
    "Conv3DTranspose": (
        {"filters": 2, "kernel_size": 2, "strides": 2},
        (2, 3, 3, 3, 2),
        (2, 6, 6, 6, 2),
    ),
    "Cropping1D": ({"cropping": (1, 2)}, (2, 8, 3), (2, 5, 3)),
    "Cropping2D": ({"cropping": ((1, 1), (2, 0))}, (2, 8, 8, 3), (2, 6, 6, 3)),
    "Cropping3D": ({"cropping": 1}, (2, 4, 4, 4, 3), (2, 2, 2, 2, 3)),
    "CutMix": ({"seed": 1}, (4, 8, 8, 3), (4, 8, 8, 3)),
    "Dense": ({"units": 7, "activation": "tanh"}, (2, 5), (2, 7)),
    "DepthwiseConv1D": ({"kernel_size": 3, "depth_multiplier": 2}, (2, 8, 3), (2, 6, 6)),
    "DepthwiseConv2D": ({"kernel_size": 3, "depth_multiplier": 2}, (2, 8, 8, 3), (2, 6, 6, 6)),
    "Dropout": ({"rate": 0.5}, (2, 5), (2, 5)),
    "ELU": ({}, (2, 5), (2, 5)),
    "Flatten": ({}, (2, 4, 4, 3), (2, 48)),
    "GRU": ({"units": 3}, (2, 4, 3), (2, 3)),
    "GaussianDropout": ({"rate": 0.3}, (2, 5), (2, 5)),
    "GaussianNoise": ({"stddev": 0.1}, (2, 5), (2, 5)),
    "GlobalAveragePooling1D": ({}, (2, 8, 3), (2, 3)),
    "GlobalAveragePooling2D": ({}, (2, 8, 8, 3), (2, 3)),
    "GlobalAveragePooling3D": ({}, (2, 4, 4, 4, 3), (2, 3)),
    "GlobalMaxPooling1D": ({}, (2, 8, 3), (2, 3)),
    "GlobalMaxPooling2D": ({}, (2, 8, 8, 3), (2, 3)),
    "GlobalMaxPooling3D": ({}, (2, 4, 4, 4, 3), (2, 3)),
    "GradientReversal": ({"scale": 0.5}, (2, 5), (2, 5)),
    "GroupNormalization": ({"groups": 2}, (2, 5, 5, 4), (2, 5, 5, 4)),
    "Identity": ({}, (2, 5), (2, 5)),
    "LayerNormalization": ({}, (2, 3, 5), (2, 3, 5)),
    "LSTM": ({"units": 3, "return_sequences": True}, (2, 4, 3), (2, 4, 3)),
    "LeakyReLU": ({}, (2, 5), (2, 5)),
    "MaxPooling1D": ({"pool_size": 2}, (2, 8, 3), (2, 4, 3)),
    "MaxPooling2D": ({"pool_size": 2}, (2, 7, 7, 3), (2, 3, 3, 3)),
    "MaxPooling3D": ({"pool_size": 2}, (2, 4, 4, 4, 3), (2, 2, 2, 2, 3)),
    "MixUp": ({"seed": 1}, (4, 8, 8, 3), (4, 8, 8, 3)),
    "Normalization": (
        {"mean": [0.5, 1.0, 2.0], "variance": [1.0, 4.0, 0.25]},
        (2, 4, 3),
        (2, 4, 3),
    ),
    # A zero slope (the default) gets no gradient from a squared loss at the start.
    "PReLU": (
        {"alpha_initializer": {"class_name": "Constant", "config": {"value": 0.25}}},
        (2, 5),
        (2, 5),
    ),
    "Permute": ({"dims": (2, 1)}, (2, 3, 5), (2, 5, 3)),
    "RandomBrightness": ({"factor": 0.2, "value_range": (-5, 5)}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomContrast": ({"factor": 0.5, "value_range": [-5, 5]}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomCrop": ({"height": 6, "width": 6, "padding": 1}, (2, 8, 8, 3), (2, 6, 6, 3)),
    "RandomErasing": ({"factor": (1.0, 1.0), "fill_value": 0.0}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomFlip": ({"seed": 3}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomRotation": ({"factor": 0.1}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomShift": ({"max_shift": 2, "fill_mode": "wrap"}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomTranslation": (
        {"height_factor": 0.2, "width_factor": (-0.1, 0.3)},
        (2, 8, 8, 3),
        (2, 8, 8, 3),
    ),
    "RandomZoom": (
        {"height_factor": (-0.2, 0.3), "fill_mode": "constant"},
        (2, 8, 8, 3),
        (2, 8, 8, 3),
    ),
    "ReLU": ({"max_value": 6.0}, (2, 5), (2, 5)),
    "RepeatVector": ({"n": 3}, (2, 5), (2, 3, 5)),
    "Rescaling": ({"scale": 0.5, "offset": [1.0, 2.0, 3.0]}, (2, 4, 3), (2, 4, 3)),
    "Reshape": ({"target_shape": (5, -1)}, (2, 10), (2, 5, 2)),
    "Resizing": (
        {"height": 4, "width": 5, "crop_to_aspect_ratio": True},
        (2, 8, 8, 3),
        (2, 4, 5, 3),
    ),
    "SeparableConv1D": ({"filters": 4, "kernel_size": 3}, (2, 8, 3), (2, 6, 4)),
    "SeparableConv2D": ({"filters": 4, "kernel_size": 3}, (2, 8, 8, 3), (2, 6, 6, 4)),
    "SimpleRNN": ({"units": 3}, (2, 4, 3), (2, 3)),
    "Softmax": ({}, (2, 5), (2, 5)),
    "SpatialDropout1D": ({"rate": 0.5}, (2, 8, 3), (2, 8, 3)),
    "SpatialDropout2D": ({"rate": 0.5}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "SpatialDropout3D": ({"rate": 0.5}, (2, 4, 4, 4, 3), (2, 4, 4, 4, 3)),
    "UpSampling1D": ({"size": 2}, (2, 4, 3), (2, 8, 3)),
    "UpSampling2D": ({"size": 2}, (2, 4, 4, 3), (2, 8, 8, 3)),
    "UpSampling3D": ({"size": 2}, (2, 2, 2, 2, 3), (2, 4, 4, 4, 3)),
    "ZeroPadding1D": ({"padding": 1}, (2, 4, 3), (2, 6, 3)),
    "ZeroPadding2D": ({"padding": ((1, 0), (2, 1))}, (2, 4, 4, 3), (2, 5, 7, 3)),
    "ZeroPadding3D": ({"padding": 1}, (2, 2, 2, 2, 3), (2, 4, 4, 4, 3)),
}
# Not layers one computes with in this harness: the base class, the input placeholder, Lambda
# (a Python function, tested with the core layers), and the merging layers, which take a list
# of tensors (their contract test is tests/layers/test_merging.py).
MERGING = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot"}
# Attention layers take a query and a value (tests/layers/test_attention.py); the wrappers a
# layer (test_recurrent.py); Embedding integer ids (below); Masking: test_masking.py.
OWN_CONTRACT_TESTS = {
    "GroupQueryAttention",  # query and value: test_group_query_attention.py
    "Wrapper",  # abstract: test_wrapper.py
    "ReversibleEmbedding",  # integer ids: test_reversible_embedding.py
    # host-side preprocessing on strings / integer ids; check_layer runs in their own files
    "StringLookup",  # test_lookup.py
    "IntegerLookup",  # test_lookup.py (check_layer with int64 ids)
    "Hashing",  # test_hashing.py (check_layer with int64 ids)
    "HashedCrossing",  # test_hashing.py (takes a tuple of features)
    "TextVectorization",  # test_text_vectorization.py
    "Attention",
    "AdditiveAttention",
    "MultiHeadAttention",
    "Bidirectional",
    "TimeDistributed",
    "Embedding",
    "Masking",  # test_masking.py (Flatten after it warns, as in Keras)
    "CategoryEncoding",  # integer ids: test_categorical.py
    "SpectralNormalization",  # wraps a layer: test_spectral_normalization.py
    "TorchModuleWrapper",  # wraps a torch module: test_torch_module_wrapper.py
    "Pipeline",  # takes layer instances: test_augmentation_policies.py
    # cells: (inputs, states), test_rnn_cells.py
    "GRUCell",
    "LSTMCell",
    "SimpleRNNCell",
    "StackedRNNCells",
}
NOT_HARNESSED = {"Layer", "InputLayer", "Lambda"} | MERGING | OWN_CONTRACT_TESTS


def public_layer_classes():
    classes = {}
    for name in layers.__all__:
        value = getattr(layers, name)
        if isinstance(value, type) and issubclass(value, layers.Layer):
            classes[value.__name__] = value
    return classes


def test_every_layer_has_a_case():
    missing = set(public_layer_classes()) - set(CASES) - NOT_HARNESSED
    assert not missing, f"add a CASES row for: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_contract(name):
    kwargs, input_shape, expected = CASES[name]
    check_layer(getattr(layers, name), kwargs, input_shape, expected_output_shape=expected)


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_trains_inside_a_sequential_model(name):
    kwargs, input_shape, output_shape = CASES[name]
    model = lamina.Sequential([lamina.Input(input_shape[1:]), getattr(layers, name)(**kwargs)])
    if len(output_shape) > 2:
        model.add(layers.Flatten())
    model.add(layers.Dense(1))
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, *input_shape[1:])).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.predict(x, verbose=0).shape == (8, 1)


def test_embedding_contract_on_integer_ids():
    check_layer(
        layers.Embedding,
        {"input_dim": 10, "output_dim": 3},
        (2, 5),
        expected_output_shape=(2, 5, 3),
        input_dtype=torch.int64,
    )
