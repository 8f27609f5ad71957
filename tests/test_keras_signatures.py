"""Keras 3's constructor and function signatures and default configs, checked without Keras.

The literals below were recorded from Keras 3.15.1 (torch backend) with `inspect.signature`
and `get_config()` over keras.activations, callbacks, constraints, layers, losses, metrics,
optimizers (+ schedules) and regularizers. Every Keras parameter must exist in lamina with
Keras' default, Keras' positional parameters must come first and in Keras' order, and the
configs of the objects in KERAS_CONFIGS must be Keras'. Differences lamina keeps on purpose
are listed with their reason, next to the tests.
"""

from __future__ import annotations

import ast
import inspect
import json
import math
import re
from typing import Any

import pytest

import lamina

# Keras 3.15.1: the parameters of each public class and function, as `inspect.signature`
# prints them (without the parentheses). Initializers are checked in tests/test_initializers.py.

KERAS_SIGNATURES = {
    "activations.celu": "x, alpha=1.0",
    "activations.deserialize": "config, custom_objects=None",
    "activations.elu": "x, alpha=1.0",
    "activations.exponential": "x",
    "activations.gelu": "x, approximate=False",
    "activations.get": "identifier",
    "activations.glu": "x, axis=-1",
    "activations.hard_shrink": "x, threshold=0.5",
    "activations.hard_sigmoid": "x",
    "activations.hard_silu": "x",
    "activations.hard_tanh": "x",
    "activations.leaky_relu": "x, negative_slope=0.2",
    "activations.linear": "x",
    "activations.log_sigmoid": "x",
    "activations.log_softmax": "x, axis=-1",
    "activations.mish": "x",
    "activations.relu": "x, negative_slope=0.0, max_value=None, threshold=0.0",
    "activations.relu6": "x",
    "activations.selu": "x",
    "activations.serialize": "activation",
    "activations.sigmoid": "x",
    "activations.silu": "x",
    "activations.soft_shrink": "x, threshold=0.5",
    "activations.softmax": "x, axis=-1",
    "activations.softplus": "x",
    "activations.softsign": "x",
    "activations.sparse_plus": "x",
    "activations.sparse_sigmoid": "x",
    "activations.sparsemax": "x, axis=-1",
    "activations.squareplus": "x, b=4",
    "activations.tanh": "x",
    "activations.tanh_shrink": "x",
    "activations.threshold": "x, threshold, default_value",
    "callbacks.BackupAndRestore": (
        "backup_dir, save_freq='epoch', double_checkpoint=False, delete_checkpoint=True"
    ),
    "callbacks.CSVLogger": "filename, separator=',', append=False",
    "callbacks.Callback": "",
    "callbacks.CallbackList": (
        "callbacks=None, add_history=False, add_progbar=False, model=None, **params"
    ),
    "callbacks.EarlyStopping": (
        "monitor='val_loss', min_delta=0, patience=0, verbose=0, mode='auto', baseline=None,"
        " restore_best_weights=False, start_from_epoch=0"
    ),
    "callbacks.History": "",
    "callbacks.LambdaCallback": (
        "on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,"
        " on_train_batch_begin=None, on_train_batch_end=None, **kwargs"
    ),
    "callbacks.LearningRateScheduler": "schedule, verbose=0",
    "callbacks.ModelCheckpoint": (
        "filepath, monitor='val_loss', verbose=0, save_best_only=False,"
        " save_weights_only=False, mode='auto', save_freq='epoch',"
        " initial_value_threshold=None"
    ),
    "callbacks.ProgbarLogger": "",
    "callbacks.ReduceLROnPlateau": (
        "monitor='val_loss', factor=0.1, patience=10, verbose=0, mode='auto',"
        " min_delta=0.0001, cooldown=0, min_lr=0.0, **kwargs"
    ),
    "callbacks.RemoteMonitor": (
        "root='http://localhost:9000', path='/publish/epoch/end/', field='data', headers=None,"
        " send_as_json=False"
    ),
    "callbacks.SwapEMAWeights": "swap_on_epoch=False",
    "callbacks.TensorBoard": (
        "log_dir='logs', histogram_freq=0, write_graph=True, write_images=False,"
        " write_steps_per_second=False, update_freq='epoch', profile_batch=0,"
        " embeddings_freq=0, embeddings_metadata=None"
    ),
    "callbacks.TerminateOnNaN": "raise_error=False",
    "constraints.Constraint": "",
    "constraints.MaxNorm": "max_value=2, axis=0",
    "constraints.MinMaxNorm": "min_value=0.0, max_value=1.0, rate=1.0, axis=0",
    "constraints.NonNeg": "",
    "constraints.UnitNorm": "axis=0",
    "constraints.deserialize": "config, custom_objects=None",
    "constraints.get": "identifier",
    "constraints.serialize": "constraint",
    "layers.Activation": "activation, **kwargs",
    "layers.ActivityRegularization": "l1=0.0, l2=0.0, **kwargs",
    "layers.AdaptiveAveragePooling1D": "output_size, data_format=None, **kwargs",
    "layers.AdaptiveAveragePooling2D": "output_size, data_format=None, **kwargs",
    "layers.AdaptiveAveragePooling3D": "output_size, data_format=None, **kwargs",
    "layers.AdaptiveMaxPooling1D": "output_size, data_format=None, **kwargs",
    "layers.AdaptiveMaxPooling2D": "output_size, data_format=None, **kwargs",
    "layers.AdaptiveMaxPooling3D": "output_size, data_format=None, **kwargs",
    "layers.Add": "**kwargs",
    "layers.AdditiveAttention": "use_scale=True, dropout=0.0, **kwargs",
    "layers.AlphaDropout": "rate, noise_shape=None, seed=None, **kwargs",
    "layers.Attention": "use_scale=False, score_mode='dot', dropout=0.0, seed=None, **kwargs",
    "layers.AugMix": (
        "value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3, alpha=1.0,"
        " all_ops=True, interpolation='bilinear', seed=None, data_format=None, **kwargs"
    ),
    "layers.AutoContrast": "value_range=(0, 255), **kwargs",
    "layers.Average": "**kwargs",
    "layers.AveragePooling1D": (
        "pool_size, strides=None, padding='valid', data_format=None, name=None, **kwargs"
    ),
    "layers.AveragePooling2D": (
        "pool_size, strides=None, padding='valid', data_format=None, name=None, **kwargs"
    ),
    "layers.AveragePooling3D": (
        "pool_size, strides=None, padding='valid', data_format=None, name=None, **kwargs"
    ),
    "layers.BatchNormalization": (
        "axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True,"
        " beta_initializer='zeros', gamma_initializer='ones', moving_mean_initializer='zeros',"
        " moving_variance_initializer='ones', beta_regularizer=None, gamma_regularizer=None,"
        " beta_constraint=None, gamma_constraint=None, renorm=False, renorm_clipping=None,"
        " renorm_momentum=0.99, synchronized=False, **kwargs"
    ),
    "layers.Bidirectional": (
        "layer, merge_mode='concat', weights=None, backward_layer=None, **kwargs"
    ),
    "layers.CategoryEncoding": ("num_tokens=None, output_mode='multi_hot', sparse=False, **kwargs"),
    "layers.CenterCrop": "height, width, data_format=None, **kwargs",
    "layers.Concatenate": "axis=-1, **kwargs",
    "layers.ContrastLimitedAdaptiveHistogramEqualization": (
        "value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8), data_format=None, **kwargs"
    ),
    "layers.Conv1D": (
        "filters, kernel_size, strides=1, padding='valid', data_format=None, dilation_rate=1,"
        " groups=1, activation=None, use_bias=True, kernel_initializer='glorot_uniform',"
        " bias_initializer='zeros', kernel_regularizer=None, bias_regularizer=None,"
        " activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs"
    ),
    "layers.Conv1DTranspose": (
        "filters, kernel_size, strides=1, padding='valid', output_padding=None,"
        " data_format=None, dilation_rate=1, activation=None, use_bias=True,"
        " kernel_initializer='glorot_uniform', bias_initializer='zeros',"
        " kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,"
        " kernel_constraint=None, bias_constraint=None, **kwargs"
    ),
    "layers.Conv2D": (
        "filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,"
        " dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,"
        " kernel_initializer='glorot_uniform', bias_initializer='zeros',"
        " kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,"
        " kernel_constraint=None, bias_constraint=None, **kwargs"
    ),
    "layers.Conv2DTranspose": (
        "filters, kernel_size, strides=(1, 1), padding='valid', output_padding=None,"
        " data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,"
        " kernel_initializer='glorot_uniform', bias_initializer='zeros',"
        " kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,"
        " kernel_constraint=None, bias_constraint=None, **kwargs"
    ),
    "layers.Conv3D": (
        "filters, kernel_size, strides=(1, 1, 1), padding='valid', data_format=None,"
        " dilation_rate=(1, 1, 1), groups=1, activation=None, use_bias=True,"
        " kernel_initializer='glorot_uniform', bias_initializer='zeros',"
        " kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,"
        " kernel_constraint=None, bias_constraint=None, **kwargs"
    ),
    "layers.Conv3DTranspose": (
        "filters, kernel_size, strides=(1, 1, 1), padding='valid', data_format=None,"
        " output_padding=None, dilation_rate=(1, 1, 1), activation=None, use_bias=True,"
        " kernel_initializer='glorot_uniform', bias_initializer='zeros',"
        " kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,"
        " kernel_constraint=None, bias_constraint=None, **kwargs"
    ),
    "layers.ConvLSTM1D": (
        "filters, kernel_size, strides=1, padding='valid', data_format=None, dilation_rate=1,"
        " activation='tanh', recurrent_activation='sigmoid', use_bias=True,"
        " kernel_initializer='glorot_uniform', recurrent_initializer='orthogonal',"
        " bias_initializer='zeros', unit_forget_bias=True, kernel_regularizer=None,"
        " recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,"
        " kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,"
        " dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,"
        " return_state=False, go_backwards=False, stateful=False, **kwargs"
    ),
    "layers.ConvLSTM2D": (
        "filters, kernel_size, strides=1, padding='valid', data_format=None, dilation_rate=1,"
        " activation='tanh', recurrent_activation='sigmoid', use_bias=True,"
        " kernel_initializer='glorot_uniform', recurrent_initializer='orthogonal',"
        " bias_initializer='zeros', unit_forget_bias=True, kernel_regularizer=None,"
        " recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,"
        " kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,"
        " dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,"
        " return_state=False, go_backwards=False, stateful=False, **kwargs"
    ),
    "layers.ConvLSTM3D": (
        "filters, kernel_size, strides=1, padding='valid', data_format=None, dilation_rate=1,"
        " activation='tanh', recurrent_activation='sigmoid', use_bias=True,"
        " kernel_initializer='glorot_uniform', recurrent_initializer='orthogonal',"
        " bias_initializer='zeros', unit_forget_bias=True, kernel_regularizer=None,"
        " recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,"
        " kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,"
        " dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,"
        " return_state=False, go_backwards=False, stateful=False, **kwargs"
    ),
    "layers.Cropping1D": "cropping=(1, 1), **kwargs",
    "layers.Cropping2D": "cropping=((0, 0), (0, 0)), data_format=None, **kwargs",
    "layers.Cropping3D": "cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs",
    "layers.CutMix": "factor=1.0, seed=None, data_format=None, **kwargs",
    "layers.Dense": (
        "units, activation=None, use_bias=True, kernel_initializer='glorot_uniform',"
        " bias_initializer='zeros', kernel_regularizer=None, bias_regularizer=None,"
        " activity_regularizer=None, kernel_constraint=None, bias_constraint=None,"
        " lora_rank=None, lora_alpha=None, quantization_config=None, **kwargs"
    ),
    "layers.DepthwiseConv1D": (
        "kernel_size, strides=1, padding='valid', depth_multiplier=1, data_format=None,"
        " dilation_rate=1, activation=None, use_bias=True,"
        " depthwise_initializer='glorot_uniform', bias_initializer='zeros',"
        " depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,"
        " depthwise_constraint=None, bias_constraint=None, **kwargs"
    ),
    "layers.DepthwiseConv2D": (
        "kernel_size, strides=(1, 1), padding='valid', depth_multiplier=1, data_format=None,"
        " dilation_rate=(1, 1), activation=None, use_bias=True,"
        " depthwise_initializer='glorot_uniform', bias_initializer='zeros',"
        " depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,"
        " depthwise_constraint=None, bias_constraint=None, **kwargs"
    ),
    "layers.Discretization": (
        "bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode='int', sparse=False,"
        " dtype=None, name=None"
    ),
    "layers.Dot": "axes, normalize=False, **kwargs",
    "layers.Dropout": "rate, noise_shape=None, seed=None, **kwargs",
    "layers.ELU": "alpha=1.0, **kwargs",
    "layers.EinsumDense": (
        "equation, output_shape, activation=None, bias_axes=None,"
        " kernel_initializer='glorot_uniform', bias_initializer='zeros',"
        " kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,"
        " bias_constraint=None, lora_rank=None, lora_alpha=None,"
        " gptq_unpacked_column_size=None, quantization_config=None, **kwargs"
    ),
    "layers.Embedding": (
        "input_dim, output_dim, embeddings_initializer='uniform', embeddings_regularizer=None,"
        " embeddings_constraint=None, mask_zero=False, weights=None, lora_rank=None,"
        " lora_alpha=None, quantization_config=None, **kwargs"
    ),
    "layers.Equalization": "value_range=(0, 255), bins=256, data_format=None, **kwargs",
    "layers.Flatten": "data_format=None, **kwargs",
    "layers.GRU": (
        "units, activation='tanh', recurrent_activation='sigmoid', use_bias=True,"
        " kernel_initializer='glorot_uniform', recurrent_initializer='orthogonal',"
        " bias_initializer='zeros', kernel_regularizer=None, recurrent_regularizer=None,"
        " bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,"
        " recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,"
        " seed=None, return_sequences=False, return_state=False, go_backwards=False,"
        " stateful=False, unroll=False, reset_after=True, use_cudnn='auto', **kwargs"
    ),
    "layers.GRUCell": (
        "units, activation='tanh', recurrent_activation='sigmoid', use_bias=True,"
        " kernel_initializer='glorot_uniform', recurrent_initializer='orthogonal',"
        " bias_initializer='zeros', kernel_regularizer=None, recurrent_regularizer=None,"
        " bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,"
        " bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, reset_after=True,"
        " seed=None, **kwargs"
    ),
    "layers.GaussianDropout": "rate, seed=None, **kwargs",
    "layers.GaussianNoise": "stddev, seed=None, **kwargs",
    "layers.GlobalAveragePooling1D": "data_format=None, keepdims=False, **kwargs",
    "layers.GlobalAveragePooling2D": "data_format=None, keepdims=False, **kwargs",
    "layers.GlobalAveragePooling3D": "data_format=None, keepdims=False, **kwargs",
    "layers.GlobalMaxPool1D": "data_format=None, keepdims=False, **kwargs",
    "layers.GlobalMaxPool2D": "data_format=None, keepdims=False, **kwargs",
    "layers.GlobalMaxPool3D": "data_format=None, keepdims=False, **kwargs",
    "layers.GroupNormalization": (
        "groups=32, axis=-1, epsilon=0.001, center=True, scale=True, beta_initializer='zeros',"
        " gamma_initializer='ones', beta_regularizer=None, gamma_regularizer=None,"
        " beta_constraint=None, gamma_constraint=None, **kwargs"
    ),
    "layers.GroupQueryAttention": (
        "head_dim, num_query_heads, num_key_value_heads, dropout=0.0, use_bias=True,"
        " sliding_window=None, flash_attention=None, kernel_initializer='glorot_uniform',"
        " bias_initializer='zeros', kernel_regularizer=None, bias_regularizer=None,"
        " activity_regularizer=None, kernel_constraint=None, bias_constraint=None,"
        " use_gate=False, seed=None, **kwargs"
    ),
    "layers.HashedCrossing": (
        "num_bins, output_mode='int', sparse=False, name=None, dtype=None, **kwargs"
    ),
    "layers.Hashing": (
        "num_bins, mask_value=None, salt=None, output_mode='int', sparse=False, **kwargs"
    ),
    "layers.Identity": "**kwargs",
    "layers.Input": (
        "shape=None, batch_size=None, dtype=None, sparse=None, ragged=None, batch_shape=None,"
        " name=None, tensor=None, optional=False"
    ),
    "layers.InputLayer": (
        "shape=None, batch_size=None, dtype=None, sparse=None, ragged=None, batch_shape=None,"
        " input_tensor=None, optional=False, name=None, **kwargs"
    ),
    "layers.InputSpec": (
        "dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None,"
        " allow_last_axis_squeeze=False, name=None, optional=False"
    ),
    "layers.IntegerLookup": (
        "max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, vocabulary=None,"
        " vocabulary_dtype='int64', idf_weights=None, invert=False, output_mode='int',"
        " sparse=False, pad_to_max_tokens=False, oov_method='floormod', salt=None, name=None,"
        " **kwargs"
    ),
    "layers.LSTM": (
        "units, activation='tanh', recurrent_activation='sigmoid', use_bias=True,"
        " kernel_initializer='glorot_uniform', recurrent_initializer='orthogonal',"
        " bias_initializer='zeros', unit_forget_bias=True, kernel_regularizer=None,"
        " recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,"
        " kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,"
        " dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,"
        " return_state=False, go_backwards=False, stateful=False, unroll=False,"
        " use_cudnn='auto', **kwargs"
    ),
    "layers.LSTMCell": (
        "units, activation='tanh', recurrent_activation='sigmoid', use_bias=True,"
        " kernel_initializer='glorot_uniform', recurrent_initializer='orthogonal',"
        " bias_initializer='zeros', unit_forget_bias=True, kernel_regularizer=None,"
        " recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,"
        " recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,"
        " seed=None, **kwargs"
    ),
    "layers.Lambda": "function, output_shape=None, mask=None, arguments=None, **kwargs",
    "layers.Layer": "*args, **kwargs",
    "layers.LayerNormalization": (
        "axis=-1, epsilon=0.001, center=True, scale=True, beta_initializer='zeros',"
        " gamma_initializer='ones', beta_regularizer=None, gamma_regularizer=None,"
        " beta_constraint=None, gamma_constraint=None, **kwargs"
    ),
    "layers.LeakyReLU": "negative_slope=0.3, **kwargs",
    "layers.Masking": "mask_value=0.0, **kwargs",
    "layers.MaxNumBoundingBoxes": "max_number, fill_value=-1, **kwargs",
    "layers.MaxPool1D": (
        "pool_size=2, strides=None, padding='valid', data_format=None, name=None, **kwargs"
    ),
    "layers.MaxPool2D": (
        "pool_size=(2, 2), strides=None, padding='valid', data_format=None, name=None, **kwargs"
    ),
    "layers.MaxPool3D": (
        "pool_size=(2, 2, 2), strides=None, padding='valid', data_format=None, name=None, **kwargs"
    ),
    "layers.Maximum": "**kwargs",
    "layers.MelSpectrogram": (
        "fft_length=2048, sequence_stride=512, sequence_length=None, window='hann',"
        " sampling_rate=16000, num_mel_bins=128, min_freq=20.0, max_freq=None,"
        " power_to_db=True, top_db=80.0, mag_exp=2.0, min_power=1e-10, ref_power=1.0,"
        " **kwargs"
    ),
    "layers.Minimum": "**kwargs",
    "layers.MixUp": "alpha=0.2, data_format=None, seed=None, **kwargs",
    "layers.MultiHeadAttention": (
        "num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,"
        " attention_axes=None, sliding_window=None, flash_attention=None,"
        " kernel_initializer='glorot_uniform', bias_initializer='zeros',"
        " kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,"
        " kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None, **kwargs"
    ),
    "layers.Multiply": "**kwargs",
    "layers.Normalization": "axis=-1, mean=None, variance=None, invert=False, **kwargs",
    "layers.PReLU": (
        "alpha_initializer='Zeros', alpha_regularizer=None, alpha_constraint=None,"
        " shared_axes=None, **kwargs"
    ),
    "layers.Permute": "dims, **kwargs",
    "layers.Pipeline": "layers, name=None",
    "layers.RMSNormalization": "axis=-1, epsilon=1e-06, **kwargs",
    "layers.RNN": (
        "cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,"
        " unroll=False, zero_output_for_mask=False, **kwargs"
    ),
    "layers.RandAugment": (
        "value_range=(0, 255), num_ops=2, factor=0.5, interpolation='bilinear', seed=None,"
        " data_format=None, **kwargs"
    ),
    "layers.RandomBrightness": "factor, value_range=(0, 255), seed=None, **kwargs",
    "layers.RandomColorDegeneration": (
        "factor, value_range=(0, 255), data_format=None, seed=None, **kwargs"
    ),
    "layers.RandomColorJitter": (
        "value_range=(0, 255), brightness_factor=None, contrast_factor=None,"
        " saturation_factor=None, hue_factor=None, seed=None, data_format=None, **kwargs"
    ),
    "layers.RandomContrast": "factor, value_range=(0, 255), seed=None, **kwargs",
    "layers.RandomCrop": "height, width, seed=None, data_format=None, name=None, **kwargs",
    "layers.RandomElasticTransform": (
        "factor=1.0, scale=1.0, interpolation='bilinear', fill_mode='reflect', fill_value=0.0,"
        " value_range=(0, 255), seed=None, data_format=None, **kwargs"
    ),
    "layers.RandomErasing": (
        "factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255), seed=None,"
        " data_format=None, **kwargs"
    ),
    "layers.RandomFlip": ("mode='horizontal_and_vertical', seed=None, data_format=None, **kwargs"),
    "layers.RandomGaussianBlur": (
        "factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255), data_format=None,"
        " seed=None, **kwargs"
    ),
    "layers.RandomGrayscale": "factor=0.5, data_format=None, seed=None, **kwargs",
    "layers.RandomHue": "factor, value_range=(0, 255), data_format=None, seed=None, **kwargs",
    "layers.RandomInvert": (
        "factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs"
    ),
    "layers.RandomPerspective": (
        "factor=1.0, scale=1.0, interpolation='bilinear', fill_value=0.0, seed=None,"
        " data_format=None, **kwargs"
    ),
    "layers.RandomPosterization": (
        "factor, value_range=(0, 255), data_format=None, seed=None, **kwargs"
    ),
    "layers.RandomRotation": (
        "factor, fill_mode='reflect', interpolation='bilinear', seed=None, fill_value=0.0,"
        " data_format=None, **kwargs"
    ),
    "layers.RandomSaturation": (
        "factor, value_range=(0, 255), data_format=None, seed=None, **kwargs"
    ),
    "layers.RandomSharpness": (
        "factor, value_range=(0, 255), data_format=None, seed=None, **kwargs"
    ),
    "layers.RandomShear": (
        "x_factor=0.0, y_factor=0.0, interpolation='bilinear', fill_mode='reflect',"
        " fill_value=0.0, data_format=None, seed=None, **kwargs"
    ),
    "layers.RandomTranslation": (
        "height_factor, width_factor, fill_mode='reflect', interpolation='bilinear',"
        " seed=None, fill_value=0.0, data_format=None, **kwargs"
    ),
    "layers.RandomZoom": (
        "height_factor, width_factor=None, fill_mode='reflect', interpolation='bilinear',"
        " seed=None, fill_value=0.0, data_format=None, **kwargs"
    ),
    "layers.ReLU": "max_value=None, negative_slope=0.0, threshold=0.0, **kwargs",
    "layers.RepeatVector": "n, **kwargs",
    "layers.Rescaling": "scale, offset=0.0, **kwargs",
    "layers.Reshape": "target_shape, **kwargs",
    "layers.Resizing": (
        "height, width, interpolation='bilinear', crop_to_aspect_ratio=False,"
        " pad_to_aspect_ratio=False, fill_mode='constant', fill_value=0.0, antialias=False,"
        " data_format=None, **kwargs"
    ),
    "layers.ReversibleEmbedding": (
        "input_dim, output_dim, tie_weights=True, embeddings_initializer='uniform',"
        " embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,"
        " reverse_dtype=None, logit_soft_cap=None, **kwargs"
    ),
    "layers.STFTSpectrogram": (
        "mode='log', frame_length=256, frame_step=None, fft_length=None, window='hann',"
        " periodic=False, scaling='density', padding='valid', expand_dims=False,"
        " data_format=None, **kwargs"
    ),
    "layers.SeparableConv1D": (
        "filters, kernel_size, strides=1, padding='valid', data_format=None, dilation_rate=1,"
        " depth_multiplier=1, activation=None, use_bias=True,"
        " depthwise_initializer='glorot_uniform', pointwise_initializer='glorot_uniform',"
        " bias_initializer='zeros', depthwise_regularizer=None, pointwise_regularizer=None,"
        " bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,"
        " pointwise_constraint=None, bias_constraint=None, **kwargs"
    ),
    "layers.SeparableConv2D": (
        "filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,"
        " dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,"
        " depthwise_initializer='glorot_uniform', pointwise_initializer='glorot_uniform',"
        " bias_initializer='zeros', depthwise_regularizer=None, pointwise_regularizer=None,"
        " bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,"
        " pointwise_constraint=None, bias_constraint=None, **kwargs"
    ),
    "layers.SimpleRNN": (
        "units, activation='tanh', use_bias=True, kernel_initializer='glorot_uniform',"
        " recurrent_initializer='orthogonal', bias_initializer='zeros',"
        " kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,"
        " activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,"
        " bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, return_sequences=False,"
        " return_state=False, go_backwards=False, stateful=False, unroll=False, seed=None,"
        " **kwargs"
    ),
    "layers.SimpleRNNCell": (
        "units, activation='tanh', use_bias=True, kernel_initializer='glorot_uniform',"
        " recurrent_initializer='orthogonal', bias_initializer='zeros',"
        " kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,"
        " kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,"
        " dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs"
    ),
    "layers.Softmax": "axis=-1, **kwargs",
    "layers.Solarization": (
        "addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None, **kwargs"
    ),
    "layers.SpatialDropout1D": "rate, seed=None, name=None, dtype=None",
    "layers.SpatialDropout2D": "rate, data_format=None, seed=None, name=None, dtype=None",
    "layers.SpatialDropout3D": "rate, data_format=None, seed=None, name=None, dtype=None",
    "layers.SpectralNormalization": "layer, power_iterations=1, **kwargs",
    "layers.StackedRNNCells": "cells, **kwargs",
    "layers.StringLookup": (
        "max_tokens=None, num_oov_indices=1, mask_token=None, oov_token='[UNK]',"
        " vocabulary=None, idf_weights=None, invert=False, output_mode='int',"
        " pad_to_max_tokens=False, sparse=False, encoding='utf-8', name=None, salt=None,"
        " **kwargs"
    ),
    "layers.Subtract": "**kwargs",
    "layers.TextVectorization": (
        "max_tokens=None, standardize='lower_and_strip_punctuation', split='whitespace',"
        " ngrams=None, output_mode='int', output_sequence_length=None,"
        " pad_to_max_tokens=False, vocabulary=None, idf_weights=None, sparse=False,"
        " ragged=False, encoding='utf-8', name=None, **kwargs"
    ),
    "layers.TimeDistributed": "layer, **kwargs",
    "layers.TorchModuleWrapper": "module, name=None, output_shape=None, **kwargs",
    "layers.UnitNormalization": "axis=-1, **kwargs",
    "layers.UpSampling1D": "size=2, **kwargs",
    "layers.UpSampling2D": "size=(2, 2), data_format=None, interpolation='nearest', **kwargs",
    "layers.UpSampling3D": "size=(2, 2, 2), data_format=None, **kwargs",
    "layers.Wrapper": "layer, **kwargs",
    "layers.ZeroPadding1D": "padding=1, data_format=None, **kwargs",
    "layers.ZeroPadding2D": "padding=(1, 1), data_format=None, **kwargs",
    "layers.ZeroPadding3D": "padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs",
    "layers.add": "inputs, **kwargs",
    "layers.average": "inputs, **kwargs",
    "layers.concatenate": "inputs, axis=-1, **kwargs",
    "layers.deserialize": "config, custom_objects=None",
    "layers.dot": "inputs, axes=-1, **kwargs",
    "layers.maximum": "inputs, **kwargs",
    "layers.minimum": "inputs, **kwargs",
    "layers.multiply": "inputs, **kwargs",
    "layers.serialize": "layer",
    "layers.subtract": "inputs, **kwargs",
    "losses.BinaryCrossentropy": (
        "from_logits=False, label_smoothing=0.0, axis=-1, reduction='sum_over_batch_size',"
        " name='binary_crossentropy', dtype=None"
    ),
    "losses.BinaryFocalCrossentropy": (
        "apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,"
        " label_smoothing=0.0, axis=-1, reduction='sum_over_batch_size',"
        " name='binary_focal_crossentropy', dtype=None"
    ),
    "losses.CTC": "reduction='sum_over_batch_size', name='ctc', dtype=None",
    "losses.CategoricalCrossentropy": (
        "from_logits=False, label_smoothing=0.0, axis=-1, reduction='sum_over_batch_size',"
        " name='categorical_crossentropy', dtype=None"
    ),
    "losses.CategoricalFocalCrossentropy": (
        "alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,"
        " reduction='sum_over_batch_size', name='categorical_focal_crossentropy', dtype=None"
    ),
    "losses.CategoricalGeneralizedCrossEntropy": (
        "q=0.5, reduction='sum_over_batch_size', name='categorical_generalized_cross_entropy',"
        " dtype=None"
    ),
    "losses.CategoricalHinge": (
        "reduction='sum_over_batch_size', name='categorical_hinge', dtype=None"
    ),
    "losses.Circle": (
        "gamma=80.0, margin=0.4, remove_diagonal=True, reduction='sum_over_batch_size',"
        " name='circle', dtype=None"
    ),
    "losses.CosineSimilarity": (
        "axis=-1, reduction='sum_over_batch_size', name='cosine_similarity', dtype=None"
    ),
    "losses.Dice": "reduction='sum_over_batch_size', name='dice', axis=None, dtype=None",
    "losses.Hinge": "reduction='sum_over_batch_size', name='hinge', dtype=None",
    "losses.Huber": "delta=1.0, reduction='sum_over_batch_size', name='huber_loss', dtype=None",
    "losses.KLDivergence": "reduction='sum_over_batch_size', name='kl_divergence', dtype=None",
    "losses.LogCosh": "reduction='sum_over_batch_size', name='log_cosh', dtype=None",
    "losses.Loss": "name=None, reduction='sum_over_batch_size', dtype=None",
    "losses.MeanAbsoluteError": (
        "reduction='sum_over_batch_size', name='mean_absolute_error', dtype=None"
    ),
    "losses.MeanAbsolutePercentageError": (
        "reduction='sum_over_batch_size', name='mean_absolute_percentage_error', dtype=None"
    ),
    "losses.MeanSquaredError": (
        "reduction='sum_over_batch_size', name='mean_squared_error', dtype=None"
    ),
    "losses.MeanSquaredLogarithmicError": (
        "reduction='sum_over_batch_size', name='mean_squared_logarithmic_error', dtype=None"
    ),
    "losses.Poisson": "reduction='sum_over_batch_size', name='poisson', dtype=None",
    "losses.SparseCategoricalCrossentropy": (
        "from_logits=False, ignore_class=None, reduction='sum_over_batch_size', axis=-1,"
        " name='sparse_categorical_crossentropy', dtype=None"
    ),
    "losses.SquaredHinge": "reduction='sum_over_batch_size', name='squared_hinge', dtype=None",
    "losses.Tversky": (
        "alpha=0.5, beta=0.5, reduction='sum_over_batch_size', name='tversky', axis=None,"
        " dtype=None"
    ),
    "losses.binary_crossentropy": (
        "y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1"
    ),
    "losses.binary_focal_crossentropy": (
        "y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,"
        " from_logits=False, label_smoothing=0.0, axis=-1"
    ),
    "losses.categorical_crossentropy": (
        "y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1"
    ),
    "losses.categorical_focal_crossentropy": (
        "y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1"
    ),
    "losses.categorical_generalized_cross_entropy": "y_true, y_pred, q",
    "losses.categorical_hinge": "y_true, y_pred",
    "losses.circle": (
        "y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80,"
        " margin=0.4"
    ),
    "losses.cosine_similarity": "y_true, y_pred, axis=-1",
    "losses.ctc": "y_true, y_pred",
    "losses.deserialize": "name, custom_objects=None",
    "losses.dice": "y_true, y_pred, axis=None",
    "losses.get": "identifier",
    "losses.hinge": "y_true, y_pred",
    "losses.huber": "y_true, y_pred, delta=1.0",
    "losses.kl_divergence": "y_true, y_pred",
    "losses.log_cosh": "y_true, y_pred",
    "losses.mean_absolute_error": "y_true, y_pred",
    "losses.mean_absolute_percentage_error": "y_true, y_pred",
    "losses.mean_squared_error": "y_true, y_pred",
    "losses.mean_squared_logarithmic_error": "y_true, y_pred",
    "losses.poisson": "y_true, y_pred",
    "losses.serialize": "loss",
    "losses.sparse_categorical_crossentropy": (
        "y_true, y_pred, from_logits=False, ignore_class=None, axis=-1"
    ),
    "losses.squared_hinge": "y_true, y_pred",
    "losses.tversky": "y_true, y_pred, alpha=0.5, beta=0.5, axis=None",
    "metrics.AUC": (
        "num_thresholds=200, curve='ROC', summation_method='interpolation', name=None,"
        " dtype=None, thresholds=None, multi_label=False, num_labels=None, label_weights=None,"
        " from_logits=False"
    ),
    "metrics.Accuracy": "name='accuracy', dtype=None",
    "metrics.BinaryAccuracy": "name='binary_accuracy', dtype=None, threshold=0.5",
    "metrics.BinaryCrossentropy": (
        "name='binary_crossentropy', dtype=None, from_logits=False, label_smoothing=0"
    ),
    "metrics.BinaryIoU": "target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None",
    "metrics.CategoricalAccuracy": "name='categorical_accuracy', dtype=None",
    "metrics.CategoricalCrossentropy": (
        "name='categorical_crossentropy', dtype=None, from_logits=False, label_smoothing=0, axis=-1"
    ),
    "metrics.CategoricalHinge": "name='categorical_hinge', dtype=None",
    "metrics.ConcordanceCorrelation": "name='concordance_correlation', dtype=None, axis=-1",
    "metrics.CosineSimilarity": "name='cosine_similarity', dtype=None, axis=-1",
    "metrics.F1Score": "average=None, threshold=None, name='f1_score', dtype=None",
    "metrics.FBetaScore": (
        "average=None, beta=1.0, threshold=None, name='fbeta_score', dtype=None"
    ),
    "metrics.FalseNegatives": "thresholds=None, name=None, dtype=None",
    "metrics.FalsePositives": "thresholds=None, name=None, dtype=None",
    "metrics.Hinge": "name='hinge', dtype=None",
    "metrics.IoU": (
        "num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,"
        " sparse_y_true=True, sparse_y_pred=True, axis=-1"
    ),
    "metrics.KLDivergence": "name='kl_divergence', dtype=None",
    "metrics.LogCoshError": "name='logcosh', dtype=None",
    "metrics.Mean": "name='mean', dtype=None",
    "metrics.MeanAbsoluteError": "name='mean_absolute_error', dtype=None",
    "metrics.MeanAbsolutePercentageError": "name='mean_absolute_percentage_error', dtype=None",
    "metrics.MeanIoU": (
        "num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,"
        " sparse_y_pred=True, axis=-1"
    ),
    "metrics.MeanMetricWrapper": "fn, name=None, dtype=None, **kwargs",
    "metrics.MeanSquaredError": "name='mean_squared_error', dtype=None",
    "metrics.MeanSquaredLogarithmicError": "name='mean_squared_logarithmic_error', dtype=None",
    "metrics.Metric": "dtype=None, name=None",
    "metrics.OneHotIoU": (
        "num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,"
        " sparse_y_pred=False, axis=-1"
    ),
    "metrics.OneHotMeanIoU": (
        "num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1"
    ),
    "metrics.PearsonCorrelation": "name='pearson_correlation', dtype=None, axis=-1",
    "metrics.Poisson": "name='poisson', dtype=None",
    "metrics.Precision": "thresholds=None, top_k=None, class_id=None, name=None, dtype=None",
    "metrics.PrecisionAtRecall": (
        "recall, num_thresholds=200, class_id=None, name=None, dtype=None"
    ),
    "metrics.R2Score": (
        "class_aggregation='uniform_average', num_regressors=0, name='r2_score', dtype=None"
    ),
    "metrics.Recall": "thresholds=None, top_k=None, class_id=None, name=None, dtype=None",
    "metrics.RecallAtPrecision": (
        "precision, num_thresholds=200, class_id=None, name=None, dtype=None"
    ),
    "metrics.RootMeanSquaredError": "name='root_mean_squared_error', dtype=None",
    "metrics.SensitivityAtSpecificity": (
        "specificity, num_thresholds=200, class_id=None, name=None, dtype=None"
    ),
    "metrics.SparseCategoricalAccuracy": "name='sparse_categorical_accuracy', dtype=None",
    "metrics.SparseCategoricalCrossentropy": (
        "name='sparse_categorical_crossentropy', dtype=None, from_logits=False,"
        " ignore_class=None, axis=-1"
    ),
    "metrics.SparseTopKCategoricalAccuracy": (
        "k=5, name='sparse_top_k_categorical_accuracy', dtype=None, from_sorted_ids=False"
    ),
    "metrics.SpecificityAtSensitivity": (
        "sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None"
    ),
    "metrics.SquaredHinge": "name='squared_hinge', dtype=None",
    "metrics.Sum": "name='sum', dtype=None",
    "metrics.TopKCategoricalAccuracy": "k=5, name='top_k_categorical_accuracy', dtype=None",
    "metrics.TrueNegatives": "thresholds=None, name=None, dtype=None",
    "metrics.TruePositives": "thresholds=None, name=None, dtype=None",
    "metrics.binary_accuracy": "y_true, y_pred, threshold=0.5",
    "metrics.categorical_accuracy": "y_true, y_pred",
    "metrics.concordance_correlation": "y_true, y_pred, axis=-1",
    "metrics.deserialize": "config, custom_objects=None",
    "metrics.get": "identifier",
    "metrics.pearson_correlation": "y_true, y_pred, axis=-1",
    "metrics.serialize": "metric",
    "metrics.sparse_categorical_accuracy": "y_true, y_pred",
    "metrics.sparse_top_k_categorical_accuracy": "y_true, y_pred, k=5, from_sorted_ids=False",
    "metrics.top_k_categorical_accuracy": "y_true, y_pred, k=5",
    "optimizers.Adadelta": (
        "learning_rate=0.001, rho=0.95, epsilon=1e-07, weight_decay=None, clipnorm=None,"
        " clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,"
        " ema_overwrite_frequency=None, loss_scale_factor=None,"
        " gradient_accumulation_steps=None, name=None, **kwargs"
    ),
    "optimizers.Adafactor": (
        "learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=0.001,"
        " clip_threshold=1.0, relative_step=True, weight_decay=None, clipnorm=None,"
        " clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,"
        " ema_overwrite_frequency=None, loss_scale_factor=None,"
        " gradient_accumulation_steps=None, name=None, **kwargs"
    ),
    "optimizers.Adagrad": (
        "learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-07, weight_decay=None,"
        " clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,"
        " ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,"
        " gradient_accumulation_steps=None, name=None, **kwargs"
    ),
    "optimizers.Adam": (
        "learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=False,"
        " weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,"
        " use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,"
        " loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs"
    ),
    "optimizers.AdamW": (
        "learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-07,"
        " amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,"
        " ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,"
        " gradient_accumulation_steps=None, name=None, **kwargs"
    ),
    "optimizers.Adamax": (
        "learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, weight_decay=None,"
        " clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,"
        " ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,"
        " gradient_accumulation_steps=None, name=None, **kwargs"
    ),
    "optimizers.Ftrl": (
        "learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,"
        " l1_regularization_strength=0.0, l2_regularization_strength=0.0,"
        " l2_shrinkage_regularization_strength=0.0, beta=0.0, weight_decay=None,"
        " clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,"
        " ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,"
        " gradient_accumulation_steps=None, name=None, **kwargs"
    ),
    "optimizers.Lamb": (
        "learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, weight_decay=None,"
        " clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,"
        " ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,"
        " gradient_accumulation_steps=None, name=None, **kwargs"
    ),
    "optimizers.Lion": (
        "learning_rate=0.001, beta_1=0.9, beta_2=0.99, weight_decay=None, clipnorm=None,"
        " clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,"
        " ema_overwrite_frequency=None, loss_scale_factor=None,"
        " gradient_accumulation_steps=None, name=None, **kwargs"
    ),
    "optimizers.LossScaleOptimizer": (
        "inner_optimizer, initial_scale=32768.0, dynamic_growth_steps=2000, name=None, **kwargs"
    ),
    "optimizers.MultiOptimizer": "optimizer_map, loss_scale_factor=None, name=None",
    "optimizers.Muon": (
        "learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999, adam_weight_decay=0.004,"
        " epsilon=1e-07, weight_decay=0.004, clipnorm=None, clipvalue=None,"
        " global_clipnorm=None, use_ema=False, ema_momentum=0.99,"
        " ema_overwrite_frequency=None, loss_scale_factor=None,"
        " gradient_accumulation_steps=None, name=None, exclude_layers=None,"
        " exclude_embeddings=True, muon_a=3.4445, muon_b=-4.775, muon_c=2.0315,"
        " adam_lr_ratio=1, momentum=0.95, ns_steps=5, nesterov=True, rms_rate=0.2, **kwargs"
    ),
    "optimizers.Nadam": (
        "learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, weight_decay=None,"
        " clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,"
        " ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,"
        " gradient_accumulation_steps=None, name=None, **kwargs"
    ),
    "optimizers.Optimizer": "*args, **kwargs",
    "optimizers.OptimizerMap": "default_optimizer, optimizer_map=None",
    "optimizers.RMSprop": (
        "learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-07, centered=False,"
        " weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,"
        " use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,"
        " loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs"
    ),
    "optimizers.SGD": (
        "learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,"
        " clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,"
        " ema_overwrite_frequency=None, loss_scale_factor=None,"
        " gradient_accumulation_steps=None, name=None, **kwargs"
    ),
    "optimizers.ScheduleFreeAdamW": (
        "learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-08, warmup_steps=0,"
        " weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,"
        " use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,"
        " loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs"
    ),
    "optimizers.deserialize": "config, custom_objects=None",
    "optimizers.get": "identifier",
    "optimizers.schedules.CosineDecay": (
        "initial_learning_rate, decay_steps, alpha=0.0, name='CosineDecay',"
        " warmup_target=None, warmup_steps=0"
    ),
    "optimizers.schedules.CosineDecayRestarts": (
        "initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,"
        " name='SGDRDecay'"
    ),
    "optimizers.schedules.ExponentialDecay": (
        "initial_learning_rate, decay_steps, decay_rate, staircase=False, name='ExponentialDecay'"
    ),
    "optimizers.schedules.InverseTimeDecay": (
        "initial_learning_rate, decay_steps, decay_rate, staircase=False, name='InverseTimeDecay'"
    ),
    "optimizers.schedules.LearningRateSchedule": "",
    "optimizers.schedules.PiecewiseConstantDecay": ("boundaries, values, name='PiecewiseConstant'"),
    "optimizers.schedules.PolynomialDecay": (
        "initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,"
        " name='PolynomialDecay'"
    ),
    "optimizers.schedules.deserialize": "config, custom_objects=None",
    "optimizers.schedules.serialize": "learning_rate_schedule",
    "optimizers.serialize": "optimizer",
    "regularizers.L1": "l1=0.01",
    "regularizers.L1L2": "l1=0.0, l2=0.0",
    "regularizers.L2": "l2=0.01",
    "regularizers.OrthogonalRegularizer": "factor=0.01, mode='rows'",
    "regularizers.Regularizer": "",
    "regularizers.deserialize": "config, custom_objects=None",
    "regularizers.get": "identifier",
    "regularizers.serialize": "regularizer",
}

# Names Keras exports for an object listed above under another name.
KERAS_ALIASES = {
    "activations.hard_swish": "activations.hard_silu",
    "activations.swish": "activations.silu",
    "constraints.max_norm": "constraints.MaxNorm",
    "constraints.min_max_norm": "constraints.MinMaxNorm",
    "constraints.non_neg": "constraints.NonNeg",
    "constraints.unit_norm": "constraints.UnitNorm",
    "layers.AvgPool1D": "layers.AveragePooling1D",
    "layers.AvgPool2D": "layers.AveragePooling2D",
    "layers.AvgPool3D": "layers.AveragePooling3D",
    "layers.Convolution1D": "layers.Conv1D",
    "layers.Convolution1DTranspose": "layers.Conv1DTranspose",
    "layers.Convolution2D": "layers.Conv2D",
    "layers.Convolution2DTranspose": "layers.Conv2DTranspose",
    "layers.Convolution3D": "layers.Conv3D",
    "layers.Convolution3DTranspose": "layers.Conv3DTranspose",
    "layers.GlobalAvgPool1D": "layers.GlobalAveragePooling1D",
    "layers.GlobalAvgPool2D": "layers.GlobalAveragePooling2D",
    "layers.GlobalAvgPool3D": "layers.GlobalAveragePooling3D",
    "layers.GlobalMaxPooling1D": "layers.GlobalMaxPool1D",
    "layers.GlobalMaxPooling2D": "layers.GlobalMaxPool2D",
    "layers.GlobalMaxPooling3D": "layers.GlobalMaxPool3D",
    "layers.MaxPooling1D": "layers.MaxPool1D",
    "layers.MaxPooling2D": "layers.MaxPool2D",
    "layers.MaxPooling3D": "layers.MaxPool3D",
    "layers.SeparableConvolution1D": "layers.SeparableConv1D",
    "layers.SeparableConvolution2D": "layers.SeparableConv2D",
    "metrics.binary_crossentropy": "losses.binary_crossentropy",
    "metrics.binary_focal_crossentropy": "losses.binary_focal_crossentropy",
    "metrics.categorical_crossentropy": "losses.categorical_crossentropy",
    "metrics.categorical_focal_crossentropy": "losses.categorical_focal_crossentropy",
    "metrics.categorical_hinge": "losses.categorical_hinge",
    "metrics.hinge": "losses.hinge",
    "metrics.huber": "losses.huber",
    "metrics.kl_divergence": "losses.kl_divergence",
    "metrics.log_cosh": "losses.log_cosh",
    "metrics.mean_absolute_error": "losses.mean_absolute_error",
    "metrics.mean_absolute_percentage_error": "losses.mean_absolute_percentage_error",
    "metrics.mean_squared_error": "losses.mean_squared_error",
    "metrics.mean_squared_logarithmic_error": "losses.mean_squared_logarithmic_error",
    "metrics.poisson": "losses.poisson",
    "metrics.sparse_categorical_crossentropy": "losses.sparse_categorical_crossentropy",
    "metrics.squared_hinge": "losses.squared_hinge",
    "regularizers.l1": "regularizers.L1",
    "regularizers.l1_l2": "regularizers.L1L2",
    "regularizers.l2": "regularizers.L2",
    "regularizers.orthogonal_regularizer": "regularizers.OrthogonalRegularizer",
}

# get_config() of Keras objects built by these calls (nested 'module' and 'registered_name'
# entries dropped, dtype policies by name, automatic names without their _N suffix).
KERAS_CONFIGS = {
    "layers.Conv2D(2, 3, name='c')": {
        "name": "c",
        "trainable": True,
        "dtype": "float32",
        "filters": 2,
        "kernel_size": [3, 3],
        "strides": [1, 1],
        "padding": "valid",
        "data_format": "channels_last",
        "dilation_rate": [1, 1],
        "groups": 1,
        "activation": "linear",
        "use_bias": True,
        "kernel_initializer": {
            "class_name": "GlorotUniform",
            "config": {"seed": None, "input_axes": None, "output_axes": None},
        },
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "bias_constraint": None,
    },
    "layers.Conv3DTranspose(2, 3, 2, 'same', None, 1, name='c')": {
        "name": "c",
        "trainable": True,
        "dtype": "float32",
        "filters": 2,
        "kernel_size": [3, 3, 3],
        "strides": [2, 2, 2],
        "padding": "same",
        "output_padding": [1, 1, 1],
        "data_format": "channels_last",
        "dilation_rate": [1, 1, 1],
        "activation": "linear",
        "use_bias": True,
        "kernel_initializer": {
            "class_name": "GlorotUniform",
            "config": {"seed": None, "input_axes": None, "output_axes": None},
        },
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "bias_constraint": None,
    },
    "layers.DepthwiseConv2D(3, name='c')": {
        "name": "c",
        "trainable": True,
        "dtype": "float32",
        "depth_multiplier": 1,
        "kernel_size": [3, 3],
        "strides": [1, 1],
        "padding": "valid",
        "data_format": "channels_last",
        "dilation_rate": [1, 1],
        "activation": "linear",
        "use_bias": True,
        "depthwise_initializer": {
            "class_name": "GlorotUniform",
            "config": {"seed": None, "input_axes": None, "output_axes": None},
        },
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "depthwise_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "depthwise_constraint": None,
        "bias_constraint": None,
    },
    "layers.SeparableConv1D(2, 3, name='c')": {
        "name": "c",
        "trainable": True,
        "dtype": "float32",
        "depth_multiplier": 1,
        "filters": 2,
        "kernel_size": [3],
        "strides": [1],
        "padding": "valid",
        "data_format": "channels_last",
        "dilation_rate": [1],
        "activation": "linear",
        "use_bias": True,
        "depthwise_initializer": {
            "class_name": "GlorotUniform",
            "config": {"seed": None, "input_axes": None, "output_axes": None},
        },
        "pointwise_initializer": {
            "class_name": "GlorotUniform",
            "config": {"seed": None, "input_axes": None, "output_axes": None},
        },
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "depthwise_regularizer": None,
        "pointwise_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "depthwise_constraint": None,
        "pointwise_constraint": None,
        "bias_constraint": None,
    },
    "layers.LSTM(3, name='r')": {
        "name": "r",
        "trainable": True,
        "dtype": "float32",
        "return_sequences": False,
        "return_state": False,
        "go_backwards": False,
        "stateful": False,
        "unroll": False,
        "zero_output_for_mask": False,
        "units": 3,
        "activation": "tanh",
        "recurrent_activation": "sigmoid",
        "use_bias": True,
        "kernel_initializer": {
            "class_name": "GlorotUniform",
            "config": {"seed": None, "input_axes": None, "output_axes": None},
        },
        "recurrent_initializer": {
            "class_name": "Orthogonal",
            "config": {"seed": None, "gain": 1.0},
        },
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "unit_forget_bias": True,
        "kernel_regularizer": None,
        "recurrent_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "recurrent_constraint": None,
        "bias_constraint": None,
        "dropout": 0.0,
        "recurrent_dropout": 0.0,
        "seed": None,
    },
    "layers.GRU(3, 'relu', 'sigmoid', False, name='r')": {
        "name": "r",
        "trainable": True,
        "dtype": "float32",
        "return_sequences": False,
        "return_state": False,
        "go_backwards": False,
        "stateful": False,
        "unroll": False,
        "zero_output_for_mask": False,
        "units": 3,
        "activation": "relu",
        "recurrent_activation": "sigmoid",
        "use_bias": False,
        "kernel_initializer": {
            "class_name": "GlorotUniform",
            "config": {"seed": None, "input_axes": None, "output_axes": None},
        },
        "recurrent_initializer": {
            "class_name": "Orthogonal",
            "config": {"seed": None, "gain": 1.0},
        },
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None,
        "recurrent_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "recurrent_constraint": None,
        "bias_constraint": None,
        "dropout": 0.0,
        "recurrent_dropout": 0.0,
        "reset_after": True,
        "seed": None,
    },
    "layers.SimpleRNN(3, name='r')": {
        "name": "r",
        "trainable": True,
        "dtype": "float32",
        "return_sequences": False,
        "return_state": False,
        "go_backwards": False,
        "stateful": False,
        "unroll": False,
        "zero_output_for_mask": False,
        "units": 3,
        "activation": "tanh",
        "use_bias": True,
        "kernel_initializer": {
            "class_name": "GlorotUniform",
            "config": {"seed": None, "input_axes": None, "output_axes": None},
        },
        "recurrent_initializer": {
            "class_name": "Orthogonal",
            "config": {"seed": None, "gain": 1.0},
        },
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None,
        "recurrent_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "recurrent_constraint": None,
        "bias_constraint": None,
        "dropout": 0.0,
        "recurrent_dropout": 0.0,
    },
    "layers.LSTMCell(3, name='c')": {
        "name": "c",
        "trainable": True,
        "dtype": "float32",
        "units": 3,
        "activation": "tanh",
        "recurrent_activation": "sigmoid",
        "use_bias": True,
        "unit_forget_bias": True,
        "kernel_initializer": {
            "class_name": "GlorotUniform",
            "config": {"seed": None, "input_axes": None, "output_axes": None},
        },
        "recurrent_initializer": {
            "class_name": "Orthogonal",
            "config": {"seed": None, "gain": 1.0},
        },
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None,
        "recurrent_regularizer": None,
        "bias_regularizer": None,
        "kernel_constraint": None,
        "recurrent_constraint": None,
        "bias_constraint": None,
        "dropout": 0.0,
        "recurrent_dropout": 0.0,
        "seed": None,
    },
    "layers.GRUCell(3, name='c')": {
        "name": "c",
        "trainable": True,
        "dtype": "float32",
        "units": 3,
        "activation": "tanh",
        "recurrent_activation": "sigmoid",
        "use_bias": True,
        "kernel_initializer": {
            "class_name": "GlorotUniform",
            "config": {"seed": None, "input_axes": None, "output_axes": None},
        },
        "recurrent_initializer": {
            "class_name": "Orthogonal",
            "config": {"seed": None, "gain": 1.0},
        },
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None,
        "recurrent_regularizer": None,
        "bias_regularizer": None,
        "kernel_constraint": None,
        "recurrent_constraint": None,
        "bias_constraint": None,
        "dropout": 0.0,
        "recurrent_dropout": 0.0,
        "reset_after": True,
        "seed": None,
    },
    "layers.ConvLSTM2D(2, 3, name='c')": {
        "name": "c",
        "trainable": True,
        "dtype": "float32",
        "return_sequences": False,
        "return_state": False,
        "go_backwards": False,
        "stateful": False,
        "unroll": False,
        "zero_output_for_mask": False,
        "filters": 2,
        "kernel_size": [3, 3],
        "strides": [1, 1],
        "padding": "valid",
        "data_format": "channels_last",
        "dilation_rate": [1, 1],
        "activation": "tanh",
        "recurrent_activation": "sigmoid",
        "use_bias": True,
        "kernel_initializer": {
            "class_name": "GlorotUniform",
            "config": {"seed": None, "input_axes": None, "output_axes": None},
        },
        "recurrent_initializer": {
            "class_name": "Orthogonal",
            "config": {"seed": None, "gain": 1.0},
        },
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "unit_forget_bias": True,
        "kernel_regularizer": None,
        "recurrent_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "recurrent_constraint": None,
        "bias_constraint": None,
        "dropout": 0.0,
        "recurrent_dropout": 0.0,
        "seed": None,
    },
    "layers.MultiHeadAttention(2, 4, name='m')": {
        "name": "m",
        "trainable": True,
        "dtype": "float32",
        "num_heads": 2,
        "key_dim": 4,
        "value_dim": 4,
        "dropout": 0.0,
        "use_bias": True,
        "use_gate": False,
        "output_shape": None,
        "attention_axes": None,
        "sliding_window": None,
        "kernel_initializer": {
            "class_name": "GlorotUniform",
            "config": {"seed": None, "input_axes": None, "output_axes": None},
        },
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "bias_constraint": None,
        "seed": None,
    },
    "layers.GroupQueryAttention(4, 4, 2, name='g')": {
        "name": "g",
        "trainable": True,
        "dtype": "float32",
        "head_dim": 4,
        "num_query_heads": 4,
        "num_key_value_heads": 2,
        "use_bias": True,
        "use_gate": False,
        "sliding_window": None,
        "dropout": 0.0,
        "kernel_initializer": {
            "class_name": "GlorotUniform",
            "config": {"seed": None, "input_axes": None, "output_axes": None},
        },
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "bias_constraint": None,
        "seed": None,
    },
    "layers.BatchNormalization(name='b')": {
        "name": "b",
        "trainable": True,
        "dtype": "float32",
        "axis": -1,
        "momentum": 0.99,
        "epsilon": 0.001,
        "center": True,
        "scale": True,
        "beta_initializer": {"class_name": "Zeros", "config": {}},
        "gamma_initializer": {"class_name": "Ones", "config": {}},
        "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
        "moving_variance_initializer": {"class_name": "Ones", "config": {}},
        "beta_regularizer": None,
        "gamma_regularizer": None,
        "beta_constraint": None,
        "gamma_constraint": None,
        "synchronized": False,
        "renorm": False,
        "renorm_clipping": None,
        "renorm_momentum": 0.99,
    },
    "layers.MaxPooling2D(name='p')": {
        "name": "p",
        "trainable": True,
        "dtype": "float32",
        "pool_size": [2, 2],
        "padding": "valid",
        "strides": [2, 2],
        "data_format": "channels_last",
    },
    "layers.AveragePooling1D(2, None, 'valid', None, 'p')": {
        "name": "p",
        "trainable": True,
        "dtype": "float32",
        "pool_size": [2],
        "padding": "valid",
        "strides": [2],
        "data_format": "channels_last",
    },
    "layers.SpatialDropout1D(0.5, name='d')": {
        "rate": 0.5,
        "seed": None,
        "name": "d",
        "dtype": "float32",
    },
    "layers.SpatialDropout2D(0.5, name='d')": {
        "rate": 0.5,
        "seed": None,
        "name": "d",
        "dtype": "float32",
        "data_format": "channels_last",
    },
    "layers.Discretization(bin_boundaries=[0.0, 1.0], name='d')": {
        "bin_boundaries": [0.0, 1.0],
        "num_bins": None,
        "epsilon": 0.01,
        "output_mode": "int",
        "sparse": False,
        "name": "d",
        "dtype": "float32",
    },
    "layers.CategoryEncoding(4, name='c')": {
        "name": "c",
        "trainable": True,
        "dtype": "float32",
        "num_tokens": 4,
        "output_mode": "multi_hot",
    },
    "layers.Normalization(name='n')": {
        "name": "n",
        "trainable": True,
        "dtype": "float32",
        "axis": [-1],
        "invert": False,
        "mean": None,
        "variance": None,
    },
    "layers.Normalization(axis=None, name='n')": {
        "name": "n",
        "trainable": True,
        "dtype": "float32",
        "axis": [],
        "invert": False,
        "mean": None,
        "variance": None,
    },
    "layers.PReLU(name='p')": {
        "name": "p",
        "trainable": True,
        "dtype": "float32",
        "alpha_initializer": {"class_name": "Zeros", "config": {}},
        "alpha_regularizer": None,
        "alpha_constraint": None,
        "shared_axes": None,
    },
    "layers.RandomRotation(0.1, name='r')": {
        "name": "r",
        "trainable": True,
        "dtype": "float32",
        "data_format": "channels_last",
        "factor": [-0.1, 0.1],
        "fill_mode": "reflect",
        "fill_value": 0.0,
        "interpolation": "bilinear",
        "seed": None,
    },
    "layers.RandomBrightness(0.2, name='r')": {
        "name": "r",
        "trainable": True,
        "dtype": "float32",
        "data_format": "channels_last",
        "factor": [-0.2, 0.2],
        "value_range": [0, 255],
        "seed": None,
    },
    "layers.RandomGaussianBlur(name='r')": {
        "name": "r",
        "trainable": True,
        "dtype": "float32",
        "data_format": "channels_last",
        "factor": [0, 1.0],
        "kernel_size": [3, 3],
        "sigma": [0, 1.0],
        "value_range": [0, 255],
        "seed": None,
    },
    "layers.RandomElasticTransform(name='r')": {
        "name": "r",
        "trainable": True,
        "dtype": "float32",
        "data_format": "channels_last",
        "factor": [0, 1.0],
        "scale": [0, 1.0],
        "interpolation": "bilinear",
        "fill_mode": "reflect",
        "fill_value": 0.0,
        "value_range": [0, 255],
        "seed": None,
    },
    "layers.RandomErasing(name='r')": {
        "name": "r",
        "trainable": True,
        "dtype": "float32",
        "data_format": "channels_last",
        "factor": [0, 1.0],
        "scale": [0.02, 0.33],
        "fill_value": None,
        "value_range": [0, 255],
        "seed": None,
    },
    "layers.Solarization(name='s')": {
        "name": "s",
        "trainable": True,
        "dtype": "float32",
        "data_format": "channels_last",
        "value_range": [0, 255],
        "addition_factor": [0, 0.0],
        "threshold_factor": [0, 0.0],
        "seed": None,
    },
    "layers.RandAugment(name='r')": {
        "name": "r",
        "trainable": True,
        "dtype": "float32",
        "data_format": "channels_last",
        "value_range": [0, 255],
        "num_ops": 2,
        "factor": [0, 0.5],
        "interpolation": "bilinear",
        "seed": None,
    },
    "layers.AugMix(name='a')": {
        "name": "a",
        "trainable": True,
        "dtype": "float32",
        "data_format": "channels_last",
        "value_range": [0, 255],
        "num_chains": 3,
        "chain_depth": 3,
        "factor": [0, 0.3],
        "alpha": 1.0,
        "all_ops": True,
        "interpolation": "bilinear",
        "seed": None,
    },
    "layers.CutMix(name='c')": {
        "name": "c",
        "trainable": True,
        "dtype": "float32",
        "data_format": "channels_last",
        "factor": [0, 1.0],
        "seed": None,
    },
    "layers.RandomHue(0.1, name='r')": {
        "name": "r",
        "trainable": True,
        "dtype": "float32",
        "data_format": "channels_last",
        "factor": [0, 0.1],
        "value_range": [0, 255],
        "seed": None,
    },
    "layers.RandomSharpness(0.1, name='r')": {
        "name": "r",
        "trainable": True,
        "dtype": "float32",
        "data_format": "channels_last",
        "factor": [0, 0.1],
        "value_range": [0, 255],
        "seed": None,
    },
    "layers.RandomPerspective(name='r')": {
        "name": "r",
        "trainable": True,
        "dtype": "float32",
        "data_format": "channels_last",
        "factor": [0, 1.0],
        "scale": 1.0,
        "interpolation": "bilinear",
        "fill_value": 0.0,
        "seed": None,
    },
    "layers.RandomInvert(name='r')": {
        "name": "r",
        "trainable": True,
        "dtype": "float32",
        "data_format": "channels_last",
        "factor": [0, 1.0],
        "value_range": [0, 255],
        "seed": None,
    },
    "layers.Pipeline([], name='p')": {"layers": [], "name": "p"},
    "losses.SparseCategoricalCrossentropy(ignore_class=1)": {
        "name": "sparse_categorical_crossentropy",
        "reduction": "sum_over_batch_size",
        "from_logits": False,
        "ignore_class": 1,
    },
    "losses.Huber()": {"name": "huber_loss", "reduction": "sum_over_batch_size"},
    "metrics.SparseCategoricalCrossentropy(ignore_class=1)": {
        "name": "sparse_categorical_crossentropy",
        "dtype": "float32",
        "from_logits": False,
        "ignore_class": 1,
        "axis": -1,
    },
    "metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)": {
        "name": "sparse_top_k_categorical_accuracy",
        "dtype": "float32",
        "k": 2,
        "from_sorted_ids": True,
    },
    "metrics.SparseTopKCategoricalAccuracy()": {
        "name": "sparse_top_k_categorical_accuracy",
        "dtype": "float32",
        "k": 5,
    },
    "optimizers.AdamW()": {
        "name": "adam_w",
        "learning_rate": 0.0010000000474974513,
        "weight_decay": 0.004,
        "clipnorm": None,
        "global_clipnorm": None,
        "clipvalue": None,
        "use_ema": False,
        "ema_momentum": 0.99,
        "ema_overwrite_frequency": None,
        "loss_scale_factor": None,
        "gradient_accumulation_steps": None,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-07,
        "amsgrad": False,
    },
    "optimizers.RMSprop()": {
        "name": "rm_sprop",
        "learning_rate": 0.0010000000474974513,
        "weight_decay": None,
        "clipnorm": None,
        "global_clipnorm": None,
        "clipvalue": None,
        "use_ema": False,
        "ema_momentum": 0.99,
        "ema_overwrite_frequency": None,
        "loss_scale_factor": None,
        "gradient_accumulation_steps": None,
        "rho": 0.9,
        "momentum": 0.0,
        "epsilon": 1e-07,
        "centered": False,
    },
    "optimizers.ScheduleFreeAdamW()": {
        "name": "schedule_free_adam_w",
        "learning_rate": 0.0024999999441206455,
        "weight_decay": None,
        "clipnorm": None,
        "global_clipnorm": None,
        "clipvalue": None,
        "use_ema": False,
        "ema_momentum": 0.99,
        "ema_overwrite_frequency": None,
        "loss_scale_factor": None,
        "gradient_accumulation_steps": None,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-08,
        "warmup_steps": 0,
    },
    "optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)": {
        "initial_learning_rate": 0.1,
        "decay_steps": 10,
        "decay_rate": 0.9,
        "staircase": False,
        "name": "ExponentialDecay",
    },
    "optimizers.schedules.InverseTimeDecay(0.1, 10, 0.9)": {
        "initial_learning_rate": 0.1,
        "decay_steps": 10,
        "decay_rate": 0.9,
        "staircase": False,
        "name": "InverseTimeDecay",
    },
    "regularizers.l1_l2()": {"l1": 0.0, "l2": 0.0},
    "regularizers.L1L2(0.1)": {"l1": 0.1, "l2": 0.0},
    "constraints.MaxNorm()": {"max_value": 2, "axis": 0},
}

# Parameters whose int default stands for Keras' tuple of that int (strides=1 is (1, 1)).
BROADCAST_DEFAULTS = {"strides", "dilation_rate", "pool_size", "padding"}

# (object, parameter): why lamina differs. Fixed entries must be removed (see the last test).
KNOWN_GAPS = {
    ("layers.EinsumDense", "gptq_unpacked_column_size"): "GPTQ quantization: not in lamina",
}

# Config entries lamina writes beyond Keras' (Keras drops them, so its configs lose them).
CONFIG_EXTRAS = {
    "losses.SparseCategoricalCrossentropy(ignore_class=1)": {"axis"},
    "losses.Huber()": {"delta"},
}


def _resolve(dotted: str) -> Any:
    obj = lamina
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _keras_parameters(spec: str) -> list[tuple[str, str, Any]]:
    """(name, kind, default) from a signature string; kind is 'positional', 'keyword', '*' or
    '**'; default is inspect.Parameter.empty for required parameters."""
    arguments = ast.parse(f"def f({spec}): pass").body[0].args
    positional = arguments.posonlyargs + arguments.args
    defaults = [inspect.Parameter.empty] * (len(positional) - len(arguments.defaults))
    defaults += [ast.literal_eval(d) for d in arguments.defaults]
    result = [(a.arg, "positional", d) for a, d in zip(positional, defaults, strict=True)]
    if arguments.vararg:
        result.append((arguments.vararg.arg, "*", inspect.Parameter.empty))
    for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        default = inspect.Parameter.empty if d is None else ast.literal_eval(d)
        result.append((a.arg, "keyword", default))
    if arguments.kwarg:
        result.append((arguments.kwarg.arg, "**", inspect.Parameter.empty))
    return result


_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: "positional",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
    inspect.Parameter.KEYWORD_ONLY: "keyword",
    inspect.Parameter.VAR_POSITIONAL: "*",
    inspect.Parameter.VAR_KEYWORD: "**",
}


def _lamina_parameters(obj: Any) -> list[tuple[str, str, Any]]:
    parameters = inspect.signature(obj).parameters.values()
    return [(p.name, _KINDS[p.kind], p.default) for p in parameters]


def _same(keras: Any, ours: Any, broadcast: bool = False) -> bool:
    if isinstance(keras, (tuple, list)):
        if broadcast and not isinstance(ours, (tuple, list)):
            return all(_same(k, ours, broadcast) for k in keras)
        return (
            isinstance(ours, (tuple, list))
            and len(ours) == len(keras)
            and all(_same(k, o, broadcast) for k, o in zip(keras, ours, strict=True))
        )
    if isinstance(keras, bool) or isinstance(ours, bool):
        return keras is ours
    if isinstance(keras, float) or isinstance(ours, float):
        # Keras keeps some floats as float32 (learning_rate 0.0010000000474974513).
        return isinstance(ours, (int, float)) and math.isclose(ours, keras, rel_tol=1e-7)
    return type(keras) is type(ours) and keras == ours


def _signature_differences(name: str, spec: str) -> dict[str, str]:
    """{parameter: what differs} between Keras' `spec` and lamina's object `name`."""
    keras = _keras_parameters(spec)
    ours = _lamina_parameters(_resolve(name))
    found = {n: (kind, default) for n, kind, default in ours}
    differences = {}
    for n, kind, default in keras:
        if kind in ("*", "**"):
            if kind == "**" and not any(k == "**" for _, k, _ in ours):
                differences[n] = "Keras takes **kwargs, lamina does not"
            continue
        if n not in found:
            differences[n] = "missing"
        elif not _same(default, found[n][1], n in BROADCAST_DEFAULTS):
            differences[n] = f"default {found[n][1]!r}, Keras {default!r}"
    keras_order = [n for n, kind, _ in keras if kind == "positional"]
    our_order = [n for n, kind, _ in ours if kind == "positional"]
    if our_order[: len(keras_order)] != keras_order:
        first = next(
            n for n, mine in zip(keras_order, [*our_order, None], strict=False) if n != mine
        )
        differences.setdefault(first, f"positional order: {our_order}, Keras {keras_order}")
    return differences


@pytest.mark.parametrize("name", sorted(KERAS_SIGNATURES))
def test_parameters_defaults_and_order_are_keras(name):
    differences = _signature_differences(name, KERAS_SIGNATURES[name])
    unexpected = {p: d for p, d in differences.items() if (name, p) not in KNOWN_GAPS}
    assert unexpected == {}, f"lamina.{name} differs from Keras: {unexpected}"


@pytest.mark.parametrize("alias", sorted(KERAS_ALIASES))
def test_keras_aliases_exist_with_the_same_parameters(alias):
    differences = _signature_differences(alias, KERAS_SIGNATURES[KERAS_ALIASES[alias]])
    assert differences == {}, f"lamina.{alias} differs from Keras: {differences}"


def test_known_gaps_are_still_gaps():
    for (name, parameter), reason in KNOWN_GAPS.items():
        differences = _signature_differences(name, KERAS_SIGNATURES[name])
        message = f"{name}({parameter}) now matches Keras ({reason}): remove it from KNOWN_GAPS"
        assert parameter in differences, message


def _build(call: str) -> Any:
    """The object `call` (a literal call such as "layers.Conv2D(2, 3, name='c')") describes."""
    node = ast.parse(call, mode="eval").body
    args = [ast.literal_eval(a) for a in node.args]
    kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    return _resolve(ast.unparse(node.func))(*args, **kwargs)


def _normalized(config: Any) -> Any:
    """The tables' recorded form: nested entries without 'module' / 'registered_name' and a
    float policy as its name (tests/test_keras_configs.py checks those keys in full)."""
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy" and config.get("module") == "keras":
            return config["config"]["name"]
        skip = ("registered_name", "module") if "class_name" in config else ("registered_name",)
        return {k: _normalized(v) for k, v in config.items() if k not in skip}
    if isinstance(config, list):
        return [_normalized(v) for v in config]
    return config


@pytest.mark.parametrize("call", sorted(KERAS_CONFIGS))
def test_default_configs_are_keras(call):
    config = _normalized(json.loads(json.dumps(_build(call).get_config())))
    if isinstance(config.get("name"), str):
        config["name"] = re.sub(r"_\d+$", "", config["name"])
    for key in CONFIG_EXTRAS.get(call, ()):
        config.pop(key)
    expected = KERAS_CONFIGS[call]
    assert sorted(config) == sorted(expected)
    for key, value in expected.items():
        assert _same(value, config[key]), f"{call}: {key}={config[key]!r}, Keras {value!r}"


# ------------------------------------------------------------------ behaviour of added arguments


def test_optimizers_take_keras_retired_decay_with_a_warning_and_refuse_unknown_arguments():
    with pytest.warns(UserWarning, match="decay"):
        lamina.optimizers.Adam(decay=0.1)
    with pytest.raises(ValueError, match=r"not recognized: \{'lr': 0.1\}"):
        lamina.optimizers.SGD(lr=0.1)


def test_reduce_lr_on_plateau_takes_keras_extra_arguments_and_says_it_ignores_them():
    with pytest.warns(UserWarning, match=r"ignores the argument\(s\) \['epsilon'\]"):
        lamina.callbacks.ReduceLROnPlateau(epsilon=1e-3)


def test_sparse_categorical_crossentropy_metric_ignore_class_gives_keras_values():
    # Keras 3.15.1: ignored positions count as 0 in the mean, unless sample weights are given
    # (then their weights are zeroed).
    y = [0, 1, 2, 1]
    p = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.25, 0.25]]
    metric = lamina.metrics.SparseCategoricalCrossentropy(ignore_class=1)
    metric.update_state(y, p)
    assert float(metric.result()) == pytest.approx(0.3182414174079895, rel=1e-6)
    metric.update_state(y, p, sample_weight=[1.0, 2.0, 3.0, 4.0])
    assert float(metric.result()) == pytest.approx(0.5473140478134155, rel=1e-6)


def test_sparse_top_k_from_sorted_ids_gives_keras_values():
    y = [0, 1, 2, 1]
    ids = [[2.0, 0.0, 1.0], [1.0, 2.0, 0.0], [0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]
    metric = lamina.metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
    metric.update_state(y, ids)
    assert float(metric.result()) == 0.75  # Keras 3.15.1
    top_1 = lamina.metrics.sparse_top_k_categorical_accuracy(y, ids, k=1, from_sorted_ids=True)
    assert top_1.tolist() == [0.0, 1.0, 0.0, 0.0]
    clone = lamina.metrics.SparseTopKCategoricalAccuracy.from_config(metric.get_config())
    assert clone.from_sorted_ids is True


def test_recurrent_layers_follow_keras_positional_order():
    lstm = lamina.layers.LSTM(
        3, "tanh", "sigmoid", True, "glorot_uniform", "orthogonal", "zeros", False
    )
    assert lstm.unit_forget_bias is False
    gru = lamina.layers.GRU(3, "relu", "hard_sigmoid", False)
    assert (gru.activation, gru.use_bias) == (lamina.activations.relu, False)
    conv = lamina.layers.Conv3DTranspose(2, 3, 2, "same", "channels_first", 1)
    assert (conv.data_format, conv.output_padding) == ("channels_first", (1, 1, 1))


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (lambda: lamina.layers.LSTM(3, activity_regularizer="l2"), (2, 4, 5)),
        (lambda: lamina.layers.SimpleRNN(3, activity_regularizer="l2"), (2, 4, 5)),
        (lambda: lamina.layers.ConvLSTM1D(2, 3, activity_regularizer="l2"), (2, 4, 6, 3)),
    ],
)
def test_recurrent_activity_regularizer_adds_keras_penalty(layer, shape):
    import torch

    layer = layer()
    torch.manual_seed(0)
    y = layer(torch.randn(*shape))
    # Keras: activity_regularizer(outputs) / batch size, l2 factor 0.01.
    expected = 0.01 * float((y.detach() ** 2).sum()) / shape[0]
    assert [float(loss.detach()) for loss in layer.losses] == pytest.approx([expected], rel=1e-6)
    assert layer.get_config()["activity_regularizer"]["class_name"] == "L2"


def test_deserializers_take_keras_arguments():
    relu = lamina.activations.relu
    keras_form = {"module": "keras.activations", "class_name": "function", "config": "relu"}
    assert lamina.activations.deserialize(keras_form) is relu
    assert lamina.activations.deserialize(config="mine", custom_objects={"mine": relu}) is relu
    loss = lamina.losses.deserialize(name={"class_name": "Huber", "config": {"delta": 2.0}})
    assert loss.get_config()["delta"] == 2.0
    regularizer = lamina.regularizers.deserialize(
        {"class_name": "Mine", "config": {"l1": 0.5}},
        custom_objects={"Mine": lamina.regularizers.L1},
    )
    assert regularizer.get_config() == {"l1": 0.5}
    schedule = lamina.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
    assert (
        lamina.optimizers.schedules.serialize(learning_rate_schedule=schedule)["config"]["name"]
        == "ExponentialDecay"
    )
