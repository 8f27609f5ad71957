"""Behaviour a Keras 3.15.1 program (torch backend) showed, kept as lamina's: each case was
run on both libraries (the values here are Keras')."""

import io
from contextlib import redirect_stdout

import numpy as np
import pytest
import torch

import lamina
from lamina import callbacks, layers


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()


def test_train_on_batch_reports_its_own_batch():
    model = lamina.Sequential(
        [lamina.Input((2,)), layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")]
    )
    model.compile(optimizer=lamina.optimizers.SGD(0.0), loss="mse")
    x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
    got = [
        model.train_on_batch(x, y),
        model.train_on_batch(x * 3, y),
        model.train_on_batch(x * 3, y),
    ]
    got += [model.test_on_batch(x, y), model.train_on_batch(x * 3, y)]
    assert got == [4.0, 36.0, 36.0, 4.0, 36.0]


def test_callback_hooks_get_dicts_and_predict_outputs():
    seen = {}

    class Recorder(callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen["train_begin"] = logs

        def on_epoch_begin(self, epoch, logs=None):
            seen["epoch_begin"] = logs

        def on_train_batch_begin(self, batch, logs=None):
            seen["batch_begin"] = logs

        def on_test_begin(self, logs=None):
            seen["test_begin"] = logs

        def on_predict_batch_end(self, batch, logs=None):
            seen["predict_batch_end"] = logs

        def on_predict_end(self, logs=None):
            seen["predict_params"] = sorted(self.params)

    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y), callbacks=[Recorder()])
    model.predict(x, verbose=0, callbacks=[Recorder()])
    for key in ("train_begin", "epoch_begin", "batch_begin", "test_begin"):
        assert seen[key] == {}, key
    outputs = seen["predict_batch_end"]["outputs"]
    assert isinstance(outputs, np.ndarray) and outputs.shape == (4, 2)  # NumPy, as Keras
    assert seen["predict_params"] == ["epochs", "steps", "verbose"]


def test_one_epoch_prints_no_epoch_header():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 1), "float32")
    for epochs, header in ((1, False), (2, True)):
        out = io.StringIO()
        with redirect_stdout(out):
            model.fit(x, y, epochs=epochs, verbose=2)
        assert ("Epoch 1/" in out.getvalue()) == header


def test_weighted_metric_of_the_same_name_is_prefixed():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 4)).astype("float32"), rng.integers(0, 3, 16)
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(
        "sgd",
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        weighted_metrics=["accuracy"],
    )
    weights = np.linspace(0.1, 1.0, 16).astype("float32")
    history = model.fit(x, y, sample_weight=weights, validation_split=0.25, verbose=0)
    assert sorted(history.history) == [
        "accuracy",
        "loss",
        "val_accuracy",
        "val_loss",
        "val_weighted_accuracy",
        "weighted_accuracy",
    ]

    # Keras 3.15's evaluate() list repeats the unweighted value under the shared name, then
    # gives the weighted one: [loss, accuracy, <metric 2>, accuracy, weighted_accuracy].
    model.compile(
        "sgd",
        "sparse_categorical_crossentropy",
        metrics=["accuracy", "sparse_categorical_crossentropy"],
        weighted_metrics=["accuracy"],
    )
    values = model.evaluate(x, y, sample_weight=weights, verbose=0)
    logs = model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    assert len(values) == 5
    expected = ["loss", "accuracy", "sparse_categorical_crossentropy", "accuracy"]
    expected.append("weighted_accuracy")
    assert values == [logs[name] for name in expected]


def test_validation_freq_list_names_the_epochs():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.ones((8, 3), "float32"), np.ones((8, 1), "float32")
    history = model.fit(x, y, validation_split=0.25, epochs=4, validation_freq=[1, 3], verbose=0)
    assert len(history.history["val_loss"]) == 2 and len(history.history["loss"]) == 4


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (lambda: layers.RepeatVector(2), (3, 4)),
        (lambda: layers.Cropping2D(1), (4, 4)),
        (lambda: layers.ZeroPadding1D(1), (4, 4, 2)),
        (lambda: layers.UpSampling2D(), (4, 4)),
        (lambda: layers.Permute((2, 1)), (3, 4, 5)),
    ],
)
def test_symbolic_call_checks_the_rank(layer, shape):
    with pytest.raises(ValueError, match="expects"):
        layer()(lamina.Input(shape))


def test_compute_output_shape_keeps_a_known_batch_size():
    assert layers.Dense(5).compute_output_shape((3, 4)) == (3, 5)
    assert layers.BatchNormalization().compute_output_shape((3, 4)) == (3, 4)
    assert layers.Dense(5).compute_output_shape((None, 4)) == (None, 5)


def test_sublayers_made_in_init_build_on_input_tensors():
    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(3)

        def call(self, x):
            return self.dense(x)

    assert Block()(lamina.Input((4,))).shape == (None, 3)
    model = lamina.Sequential([lamina.Input((4,)), Block(), layers.Dense(2)])
    assert model.count_params() == 15 + 8
    assert model.predict(np.ones((2, 4), "float32"), verbose=0).shape == (2, 2)
    assert all(p.device.type == "cpu" for p in model.parameters())


def test_functional_input_and_output_shapes():
    a, b = lamina.Input((4,), name="a"), lamina.Input((3,), name="b")
    model = lamina.Model({"a": a, "b": b}, [layers.Dense(2)(a), layers.Dense(5)(b)])
    assert (model.input_shape, model.output_shape) == (
        [(None, 4), (None, 3)],
        [(None, 2), (None, 5)],
    )
    single = lamina.Model(a, layers.Dense(2)(a))
    assert (single.input_shape, single.output_shape) == ((None, 4), (None, 2))


def test_shared_layer_output_is_its_first_call():
    shared = layers.Dense(2)
    first = shared(lamina.Input((3,)))
    shared(lamina.Input((3,)))
    assert shared.output is first


def test_sequential_takes_a_one_element_input_list():
    x = np.ones((4, 3), "float32")
    built = lamina.Sequential([lamina.Input((3,)), layers.Dense(1)])
    assert built.predict([x], verbose=0).shape == (4, 1)
    assert lamina.Sequential([layers.Dense(1)]).predict([x], verbose=0).shape == (4, 1)


def test_integer_input_keeps_its_dtype():
    ids = lamina.Input((5,), dtype="int32")
    assert ids.dtype == "int32"
    features = layers.GlobalAveragePooling1D()(layers.Embedding(20, 4)(ids))
    model = lamina.Model(ids, layers.Dense(2, activation="softmax")(features))
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).integers(0, 20, (16, 5))
    history = model.fit(x, np.arange(16) % 2, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert layers.InputLayer.from_config(model.layers[0].get_config()).dtype == "int32"


def test_average_pooling_needs_a_pool_size():
    with pytest.raises(TypeError, match="pool_size"):
        layers.AveragePooling2D()
    assert layers.MaxPooling2D().pool_size == (2, 2)


def test_normalization_configs_after_build():
    norm = layers.LayerNormalization()
    assert norm.get_config()["axis"] == -1
    norm(torch.ones(2, 3))
    assert norm.get_config()["axis"] == [-1]
    groups = layers.GroupNormalization(groups=-1)
    groups(torch.ones(2, 5, 4))
    assert groups.get_config()["groups"] == 4


def test_keras_top_level_names():
    class Doubler(lamina.Layer):
        def call(self, x):
            return x * 2

    assert Doubler()(lamina.Input((3,))).shape == (None, 3)
    assert lamina.config.backend() == "torch"
    assert isinstance(lamina.version(), str)
    for name in ("Loss", "Metric", "Optimizer", "Initializer", "Regularizer", "KerasTensor"):
        assert isinstance(getattr(lamina, name), type)


def test_fit_before_compile_is_a_value_error():
    with pytest.raises(ValueError, match="compile"):
        lamina.Sequential([lamina.Input((3,)), layers.Dense(1)]).fit(np.ones((2, 3)), np.ones(2))


def test_keras_weights_file_name(tmp_path):
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    path = tmp_path / "model.weights.h5"
    model.save_weights(path)
    other = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    other.load_weights(path)
    for a, b in zip(model.get_weights(), other.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    keras_file = tmp_path / "keras.weights.h5"
    keras_file.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))  # an HDF5 signature
    with pytest.raises(ValueError, match="not a readable HDF5 file"):
        other.load_weights(keras_file)
    with pytest.raises(ValueError, match=r"\.safetensors"):
        model.save_weights(tmp_path / "model.h5")


def test_learning_rate_answers_keras_variable_calls():
    optimizer = lamina.optimizers.SGD(0.1)
    rate = optimizer.learning_rate
    assert rate == pytest.approx(0.1) and isinstance(rate * 2, float)
    rate.assign(rate * 0.5)  # a Keras callback's way to change it
    assert float(optimizer.learning_rate) == pytest.approx(0.05)
    assert optimizer.learning_rate.numpy().dtype == np.float32
    assert optimizer.get_config()["learning_rate"] == pytest.approx(0.05)


def test_user_layer_without_get_config_saves_its_arguments(tmp_path):
    @lamina.saving.register_serializable(package="parity")
    class Scale(layers.Layer):
        def __init__(self, factor, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

    class Wide(lamina.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

    assert Scale(2.5).get_config()["factor"] == 2.5
    assert Wide.from_config(Wide(5).get_config()).dense.units == 5
    model = lamina.Sequential([lamina.Input((3,)), Scale(2.5), layers.Dense(1)])
    model.save(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras")
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_evaluate_lists_dict_metrics_by_sorted_output_name():
    a = lamina.Input((4,))
    hidden = layers.Dense(5)(a)
    model = lamina.Model(
        a,
        [
            layers.Dense(1, name="reg")(hidden),
            layers.Dense(3, activation="softmax", name="cls")(hidden),
        ],
    )
    model.compile(
        "sgd",
        loss=["mse", "sparse_categorical_crossentropy"],
        metrics={"reg": ["mae", "mse"], "cls": ["accuracy"]},
    )
    x, y = np.ones((8, 4), "float32"), [np.ones((8, 1), "float32"), np.zeros(8)]
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    order = ["loss", "reg_loss", "cls_loss", "cls_accuracy", "reg_mae", "reg_mse"]  # Keras'
    assert model.evaluate(x, y, verbose=0) == pytest.approx([logs[k] for k in order])


def test_add_loss_terms_join_the_loss_as_in_keras():
    class Penalty(layers.Layer):
        def call(self, x):
            self.add_loss(0.5 * (x**2).sum() / x.shape[0])
            return x

    inputs = lamina.Input((3,))
    dense = layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")
    model = lamina.Model(inputs, dense(Penalty()(inputs)))
    model.compile(lamina.optimizers.SGD(0.01), "mse")
    x, y = np.linspace(-1, 1, 12).reshape(4, 3).astype("float32"), np.zeros((4, 1), "float32")
    assert model.evaluate(x, y, verbose=0) == pytest.approx(3.938017, abs=1e-6)
    history = model.fit(x, y, epochs=3, batch_size=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [3.920592, 3.630774, 3.366184], atol=2e-6)
    for _ in range(2):  # each outermost call starts afresh
        model(torch.as_tensor(x))
        assert [round(float(t), 6) for t in model.losses] == [0.590909]


@pytest.mark.parametrize(("split", "train"), [(0.34, 3), (0.2, 4), (0.3, 4), (0.1, 5)])
def test_validation_split_point_is_keras(split, train):
    # Keras 3.15.1 trains on floor(n * (1 - validation_split)) of 6 samples.
    model = lamina.Sequential([lamina.Input((1,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.arange(6, dtype="float32").reshape(6, 1)
    history = model.fit(x, x, validation_split=split, batch_size=1, epochs=1, verbose=0)
    assert history.params["steps"] == train


def test_keras_utils_and_application_modules():
    assert lamina.utils.unpack_x_y_sample_weight((1, 2)) == (1, 2, None)
    assert lamina.utils.unpack_x_y_sample_weight(5) == (5, None, None)
    assert lamina.utils.pack_x_y_sample_weight(1) == 1
    assert lamina.utils.pack_x_y_sample_weight(1, 2, 3) == (1, 2, 3)
    pixel = np.full((1, 1, 1, 3), 128.0)
    for module in (lamina.applications.vgg16, lamina.applications.resnet50):
        # Keras' 'caffe' mode: BGR, ImageNet means subtracted (in place, hence the copy).
        np.testing.assert_allclose(
            module.preprocess_input(pixel.copy())[0, 0, 0], [24.061, 11.221, 4.32], atol=1e-3
        )
    assert lamina.applications.vgg19.VGG19 is lamina.applications.VGG19


def test_custom_layer_adding_a_new_tensor_builds_on_input():
    class AddRange(layers.Layer):
        def call(self, x):
            return x + lamina.ops.arange(lamina.ops.shape(x)[-1], dtype="float32")

    model = lamina.Sequential([lamina.Input((5,)), AddRange(), layers.Dense(1)])
    assert model.output_shape == (None, 1)
    out = model.layers[0](torch.zeros(1, 5))
    assert out.tolist() == [[0.0, 1.0, 2.0, 3.0, 4.0]]


def test_integer_inputs_to_dense_and_average_pooling_give_floats():
    assert layers.Dense(2)(torch.ones(2, 3, dtype=torch.int64)).dtype == torch.float32
    pooled = layers.GlobalAveragePooling2D()(torch.ones(2, 4, 4, 3, dtype=torch.int64))
    assert pooled.dtype == torch.float32
    maxed = layers.GlobalMaxPooling2D()(torch.ones(2, 4, 4, 3, dtype=torch.int64))
    assert maxed.dtype == torch.int64  # as Keras: the max of integers stays integer


def test_metric_variables_are_its_state():
    auc = lamina.metrics.AUC()
    assert len(auc.variables) == 4  # Keras: true/false positives/negatives
    mean = lamina.metrics.Mean()
    mean.update_state([1.0, 3.0])
    assert [float(v) for v in mean.variables] == [4.0, 2.0]  # total, count


def test_plain_torch_modules_and_parameters_count_as_weights():
    # Keras' torch backend tracks torch.nn.Module attributes (it wraps them) and parameters.
    class Model(lamina.Model):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 3)
            self.head = layers.Dense(1)
            self.scale = torch.nn.Parameter(torch.ones(()))

        def call(self, x):
            return self.head(torch.relu(self.fc(x))) * self.scale

    model = Model()
    model(torch.zeros(2, 4))
    assert len(model.trainable_weights) == 5 and model.count_params() == 20
    model.trainable = False
    assert not model.fc.weight.requires_grad and len(model.non_trainable_weights) == 5
    # Keras 3.15.1: "ValueError: Only instances of `keras.Layer` can be added to a Sequential
    # model. Received: ..."
    with pytest.raises(ValueError, match="Only instances of `keras.Layer`.*TorchModuleWrapper"):
        lamina.Sequential([lamina.Input((4,)), torch.nn.Linear(4, 2)])


def test_a_sequential_config_written_by_keras_after_a_call_on_data_builds():
    # Keras 3.15.1: Sequential([Dense(3), Dense(1)]) called on a (2, 4) batch, get_config()
    dense = {"units": 3, "activation": "linear", "use_bias": True}
    config = {
        "name": "sequential",
        "trainable": True,
        "dtype": "float32",
        "layers": [
            {"module": "keras.layers", "class_name": "Dense", "config": {**dense, "name": "d1"}},
            {"module": "keras.layers", "class_name": "Dense", "config": {**dense, "units": 1}},
        ],
        "build_input_shape": [2, 4],
    }
    model = lamina.Sequential.from_config(config)
    assert model.built and model.count_params() == 19


@pytest.mark.parametrize(
    "make",
    [
        lambda: layers.MultiHeadAttention(2, 4),
        lambda: lamina.Sequential([layers.Dense(6)]),
    ],
    ids=["multi_head_attention", "sequential"],
)
def test_a_sub_layer_made_in_init_gets_real_weights_when_built_on_input(make):
    # keras.io's Transformer block: sub-layers made in __init__, the block called on Input.
    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = make()

        def call(self, x):
            inner = self.inner
            return inner(x, x) if isinstance(inner, layers.MultiHeadAttention) else inner(x)

    inputs = lamina.Input((4, 6))
    model = lamina.Model(inputs, Block()(inputs))
    assert all(w.device.type == "cpu" for w in model.weights) and model.get_weights()
    model.compile("sgd", "mse")
    model.fit(np.ones((2, 4, 6), "float32"), np.ones((2, 4, 6)), verbose=0)


def test_a_symbolic_call_builds_a_layer_with_its_own_compute_output_shape():
    class Projection(layers.Layer):
        def build(self, input_shape):
            self.k = self.add_weight(shape=(input_shape[-1], 3), initializer="ones", name="k")

        def call(self, x):
            return x @ self.k

        def compute_output_shape(self, input_shape):
            return (input_shape[0], 3)

    inputs = lamina.Input((2,))
    layer = Projection()
    model = lamina.Model(inputs, layer(inputs))
    assert layer.built and model.count_params() == 6  # Keras 3.15.1: built, 6


def test_weights_first_built_by_predict_still_train():
    class Model(lamina.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model, x = Model(), np.ones((4, 3), "float32")
    model.predict(x, verbose=0)  # builds inside torch.inference_mode
    model.compile("sgd", "mse")
    assert np.isfinite(model.fit(x, np.ones((4, 2)), verbose=0).history["loss"][0])


def test_add_weight_takes_keras_signature_and_the_older_order():
    class Layer(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2), initializer="random_normal")
            self.b = self.add_weight(shape=(2,), initializer="zeros", trainable=True)
            self.count = self.add_weight(shape=(), dtype="int32", trainable=False)
            self.scale = self.add_weight("scale", (2,), "ones")

        def call(self, x):
            return (x @ self.w + self.b) * self.scale

    layer = Layer()
    assert layer(torch.ones(1, 3)).shape == (1, 2)
    names = [name for name, _ in layer.named_parameters()]
    assert names == ["variable", "variable_1", "scale"]
    assert layer.count.dtype == torch.int32 and len(layer.trainable_weights) == 3


def test_fit_without_trainable_weights_warns_and_runs_as_keras():
    class Penalty(layers.Layer):
        def call(self, x):
            self.add_loss(0.01 * torch.ones(()))
            return x

    inputs = lamina.Input((2,))
    model = lamina.Model(inputs, Penalty()(inputs))
    model.compile("sgd")
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        history = model.fit(np.ones((4, 2), "float32"), epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [0.01], rtol=1e-6)  # Keras: [0.01]


def test_an_outermost_layer_call_starts_with_no_added_losses():
    class Inner(layers.Layer):
        def call(self, x):
            self.add_loss(x.sum())
            return x

    class Outer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = Inner()

        def call(self, x):
            return self.inner(x)

    outer = Outer()
    outer(torch.ones(2))
    outer(torch.ones(2))
    assert len(outer.losses) == 1  # Keras 3.15.1: 1


def test_activity_penalties_count_in_evaluate_and_activation_none_is_linear():
    # Keras 3.15.1: evaluate 4.8 (mse 4.0 + the activity penalty 0.8); fit's first loss too
    inputs = lamina.Input((2,))
    dense = layers.Dense(
        2, kernel_initializer="ones", activity_regularizer=lamina.regularizers.L2(0.1)
    )
    model = lamina.Model(inputs, dense(inputs))
    model.compile("sgd", "mse")
    x, y = np.ones((4, 2), "float32"), np.zeros((4, 2), "float32")
    assert model.evaluate(x, y, verbose=0) == pytest.approx(4.8)
    model(torch.as_tensor(x))
    assert len(model.losses) == 1
    relu = layers.Dense(2, activation="relu", kernel_initializer="ones")
    relu.activation = None  # Grad-CAM's trick: the layer becomes linear
    assert relu(torch.full((1, 2), -1.0)).tolist() == [[-2.0, -2.0]]


def test_model_losses_follow_keras_order_and_the_build_pass_adds_none():
    # Keras 3.15.1 prints [3.0, 7.0, 2.0, 1.0, 0.5, 0.125]: each layer's add_loss terms then
    # its activity penalty (model first, then the sub-layers), then the weight penalties.
    class Inner(lamina.layers.Layer):
        def __init__(self):
            super().__init__(activity_regularizer=lamina.regularizers.L1(0.5))
            self.d = layers.Dense(
                2,
                kernel_initializer="ones",
                activity_regularizer=lamina.regularizers.L1(0.25),
                kernel_regularizer=lamina.regularizers.L2(0.125),
            )

        def call(self, x):
            self.add_loss(lamina.ops.sum(x) * 0 + 7.0)
            return self.d(x)

    class Outer(lamina.Model):
        def __init__(self):
            super().__init__()
            self.a = Inner()
            self.b = layers.Dense(
                1, kernel_initializer="ones", kernel_regularizer=lamina.regularizers.L2(0.0625)
            )

        def call(self, x):
            self.add_loss(lamina.ops.sum(x) * 0 + 3.0)
            return self.b(self.a(x))

    model = Outer()
    for _ in range(2):  # the first call builds; its build pass leaves no terms behind
        model(np.ones((1, 2), "float32"))
        values = [round(float(loss.detach()), 4) for loss in model.losses]
        assert values == [3.0, 7.0, 2.0, 1.0, 0.5, 0.125]


def test_a_loss_without_targets_is_a_clear_value_error():
    # Keras 3.15.1 raises ValueError ("Invalid dtype: object") in all four calls.
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 4), "float32")
    for call in (
        lambda: model.train_on_batch(x),
        lambda: model.fit(x, verbose=0),
        lambda: model.evaluate(x, verbose=0),
        lambda: model.test_on_batch(x),
    ):
        with pytest.raises(ValueError, match="has a loss .mean_squared_error. but no targets"):
            call()


def test_a_fixed_batch_size_carries_through_symbolic_calls():
    # Keras 3.15.1: (8, None, 2) and (8, 3, 2).
    inputs = lamina.Input((None, 3), batch_size=8)
    assert tuple(layers.Dense(2)(inputs).shape) == (8, None, 2)
    inputs = lamina.Input(batch_shape=(8, 5, 3))
    model = lamina.Model(inputs, layers.Conv1D(2, 3)(inputs))
    assert model.output_shape == (8, 3, 2)


def test_weight_paths_of_attention_and_recurrent_layers_are_keras():
    # Keras 3.15.1's paths (in a fresh session, for the automatic names).
    lamina.clear_session()
    inp = lamina.Input((5, 4))

    def paths(outputs):
        return [w.path for w in lamina.Model(inp, outputs).weights]

    assert paths(layers.Bidirectional(layers.LSTM(2, name="lstm"))(inp))[3] == (
        "bidirectional/backward_lstm/lstm_cell/kernel"
    )
    assert paths(layers.MultiHeadAttention(1, 2, name="multi_head_attention")(inp, inp))[:2] == [
        "multi_head_attention/query/kernel",
        "multi_head_attention/query/bias",
    ]
    assert paths(layers.GroupQueryAttention(2, 2, 1, name="grouped_query_attention")(inp, inp))[
        :1
    ] == ["grouped_query_attention/query/kernel"]
    assert paths(layers.LSTM(2, name="lstm")(inp))[:1] == ["lstm/lstm_cell/kernel"]
    assert paths(layers.GRU(2, name="gru")(inp))[:1] == ["gru/gru_cell/kernel"]
    assert paths(layers.SimpleRNN(2, name="simple_rnn")(inp))[:1] == [
        "simple_rnn/simple_rnn_cell/kernel"
    ]
    assert paths(layers.RNN(layers.GRUCell(2, name="gru_cell"), name="rnn")(inp))[:1] == [
        "rnn/gru_cell/kernel"
    ]
    mha = layers.MultiHeadAttention(1, 2, name="mha")
    mha.build((None, 5, 4), (None, 5, 4))
    assert mha.weights[0].path == "mha/query/kernel"
