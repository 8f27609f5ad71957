"""Keras 3's overridable steps (train_step / test_step / predict_step) and the API they use.
Reference values: the same program run on Keras 3.15.1 (torch backend)."""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 4)).astype("float32")
Y = RNG.integers(0, 3, 32)
WEIGHTS = [
    np.linspace(-0.5, 0.5, 20).reshape(4, 5).astype("float32"),
    np.zeros(5, "float32"),
    np.linspace(0.3, -0.3, 15).reshape(5, 3).astype("float32"),
    np.zeros(3, "float32"),
]


class KerasDocsModel(lamina.Model):
    """The custom train_step of Keras' guide for its torch backend (`v.grad` for Keras'
    `v.value.grad`: lamina's weights are the torch parameters themselves)."""

    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(5, activation="relu")
        self.out = layers.Dense(3, activation="softmax")

    def call(self, x):
        return self.out(self.hidden(x))

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = list(self.trainable_weights)
        gradients = [v.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            metric.update_state(loss) if metric.name == "loss" else metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def docs_model():
    model = KerasDocsModel()
    model(X[:2])
    model.set_weights(WEIGHTS)
    model.compile(
        optimizer=lamina.optimizers.SGD(0.1),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def test_fit_and_evaluate_run_the_models_own_steps_as_keras():
    model = docs_model()
    history = model.fit(
        X, Y, batch_size=8, epochs=3, shuffle=False, verbose=0, validation_data=(X[:16], Y[:16])
    )
    expected = {
        "accuracy": [0.21875, 0.34375, 0.4375],
        "loss": [1.106428, 1.080379, 1.063348],
        "val_accuracy": [0.375, 0.375, 0.375],
        "val_loss": [1.090052, 1.070041, 1.056826],
    }
    assert sorted(history.history) == sorted(expected)
    for key, values in expected.items():
        np.testing.assert_allclose(history.history[key], values, atol=2e-6)
    np.testing.assert_allclose(model.evaluate(X, Y, verbose=0), [1.049981, 0.4375], atol=2e-6)
    logs = model.evaluate(X, Y, verbose=0, return_dict=True)
    assert logs == pytest.approx({"loss": 1.049981, "accuracy": 0.4375}, abs=2e-6)


def test_own_metrics_property_and_trackers():
    loss_tracker = lamina.metrics.Mean(name="loss")
    mae = lamina.metrics.MeanAbsoluteError(name="mae")

    class Own(lamina.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = ((y_pred - y) ** 2).mean()
            loss.backward()
            grads = [v.grad for v in self.trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(grads, self.trainable_weights)
            loss_tracker.update_state(loss)
            mae.update_state(y, y_pred)
            return {"loss": loss_tracker.result(), "mae": mae.result()}

        @property
        def metrics(self):
            return [loss_tracker, mae]

    model = Own()
    model(X[:2])
    model.set_weights([np.full((4, 1), 0.1, "float32"), np.zeros(1, "float32")])
    model.compile(optimizer=lamina.optimizers.SGD(0.05))
    history = model.fit(X, X[:, :1] * 2, batch_size=8, epochs=3, shuffle=False, verbose=0)
    # The trackers are reset at each epoch's start, as Keras resets model.metrics.
    np.testing.assert_allclose(history.history["loss"], [2.435986, 1.107792, 0.5544], atol=2e-6)
    np.testing.assert_allclose(history.history["mae"], [1.213002, 0.80263, 0.555152], atol=2e-6)


def test_predict_step_override():
    class Sevens(lamina.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def predict_step(self, data):
            assert isinstance(data, torch.Tensor)  # Keras: x alone, not (x,)
            x, _, _ = lamina.utils.unpack_x_y_sample_weight(data)
            return self(x) * 0 + 7

    model = Sevens()
    np.testing.assert_array_equal(model.predict(X[:5], verbose=0).ravel(), [7.0] * 5)


def test_super_train_step_is_the_standard_step():
    class Counting(lamina.Model):
        calls = 0

        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3, activation="softmax")

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            type(self).calls += 1
            return super().train_step(data)

    plain = lamina.Sequential([lamina.Input((4,)), layers.Dense(3, activation="softmax")])
    counting = Counting()
    counting(X[:2])
    counting.set_weights(plain.get_weights())
    for model in (plain, counting):
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["acc"])
    expected = plain.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    got = counting.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    assert Counting.calls == 8
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-6)


def test_metrics_list_the_loss_tracker_first():
    model = docs_model()
    # Keras 3.15.1: the loss tracker, then one 'compile_metrics' whose result is a dict
    assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]
    assert model.metrics[1].metrics == [] and model.metrics[1].result() == {}
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]
    assert [m.name for m in model.metrics[1].metrics] == ["accuracy"]
    assert list(model.metrics[1].result()) == ["accuracy"]
    assert repr(model.metrics) == "[<Mean name=loss>, <CompileMetrics name=compile_metrics>]"
    plain = lamina.Sequential([lamina.Input((4,)), layers.Dense(3, activation="softmax")])
    plain.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = plain.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    # The standard step's running loss is the tracker's state.
    assert float(plain.metrics[0].result()) == pytest.approx(history.history["loss"][0])


def test_a_step_must_return_a_dict():
    class Bad(KerasDocsModel):
        def train_step(self, data):
            super().train_step(data)
            return 1.0

    model = Bad()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(TypeError, match="must return a dict"):
        model.fit(X, Y, verbose=0)


def test_step_helpers_need_compile():
    model = KerasDocsModel()
    with pytest.raises(ValueError, match="compile"):
        model.compute_loss(y=Y[:2], y_pred=model(X[:2]))


def test_a_subclass_built_from_inputs_and_outputs_is_functional():
    """Keras' guide builds its custom-train_step model as CustomModel(inputs, outputs)."""

    steps = []

    class CustomModel(lamina.Model):
        def train_step(self, data):
            steps.append(1)
            return super().train_step(data)

    inputs = lamina.Input((4,))
    model = CustomModel(inputs, layers.Dense(3, activation="softmax")(inputs))
    assert isinstance(model, CustomModel) and model.count_params() == 15
    assert model.output_shape == (None, 3)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    assert len(steps) == 4 and sorted(history.history) == ["accuracy", "loss"]
    copy = CustomModel.from_config(model.get_config())
    assert isinstance(copy, CustomModel) and copy.count_params() == 15


def test_compiled_metrics_in_model_metrics_ignore_sample_weight_as_keras():
    # Keras' compiled `metrics=` ignore sample weights in a custom step's update_state (the
    # guide's sample-weight train_step); `weighted_metrics=` use them.
    model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"], weighted_metrics=["mse"])
    x, y = np.ones((4, 2), "float32"), np.arange(4, dtype="float32").reshape(4, 1)
    model.evaluate(x, y, verbose=0)  # makes the metric objects
    _, compiled = model.metrics
    compiled.reset_state()
    assert {k: float(v) for k, v in compiled.result().items()} == {"mae": 0.0, "mse": 0.0}
    y_pred = torch.zeros(4, 1)
    weights = torch.tensor([1.0, 0.0, 0.0, 3.0])
    compiled.update_state(torch.as_tensor(y), y_pred, sample_weight=weights)
    result = compiled.result()
    assert float(result["mae"]) == pytest.approx(1.5)  # mean |y| of 0, 1, 2, 3
    assert float(result["mse"]) == pytest.approx((0 + 27) / 4)  # (1*0 + 3*9) / 4
    with pytest.raises(NotImplementedError):
        compiled.get_config()


def test_steps_get_x_alone_and_evaluate_lists_a_custom_test_steps_logs():
    # Keras 3.15.1: train/test steps get the bare tensor when there are no targets, and
    # evaluate() gives [loss, then the step's other logs], also over compiled metrics.
    seen = []

    class Model(lamina.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            seen.append(type(data).__name__)
            return {"loss": 0.0}

        def test_step(self, data):
            return {"loss": 1.0, "acc": 2.0}

    model = Model()
    model.compile("sgd")
    x = np.ones((2, 3), "float32")
    model.fit(x, epochs=1, verbose=0)
    assert seen == ["Tensor"]
    assert model.evaluate(x, verbose=0) == [1.0, 2.0]
    model.compile("sgd", "mse", metrics=["mae"])
    assert model.evaluate(x, np.ones((2, 1)), verbose=0) == [1.0, 2.0]


def test_callbacks_get_a_custom_test_steps_logs_sorted_again(capsys):
    # Keras 3.15.1: evaluate returns the step's logs in pythonify's order (the nested
    # 'compile_metrics' where its name sorts: my_acc, loss); its CallbackList sorts them
    # once more, so on_test_end and the bar see loss, my_acc, in evaluate and in fit.
    seen = []

    class Spy(lamina.callbacks.Callback):
        def on_test_end(self, logs=None):
            seen.append(list(logs))

    model = docs_model()
    metric = lamina.metrics.SparseCategoricalAccuracy(name="my_acc")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=[metric])
    logs = model.evaluate(X, Y, verbose=2, callbacks=[Spy()], return_dict=True)
    assert list(logs) == ["my_acc", "loss"]
    assert seen == [["loss", "my_acc"]]
    assert "- loss: " in capsys.readouterr().out.split("- my_acc: ")[0]
    model.fit(X, Y, epochs=1, verbose=0, callbacks=[Spy()], validation_data=(X, Y))
    assert seen[-1] == ["loss", "my_acc"]


class _TwoOptimizerModel(lamina.Model):
    """A GAN-like model of Keras' guide: no call(), its own train_step and trackers."""

    def __init__(self, built):
        super().__init__()
        self.dense = layers.Dense(1)
        self.tracker = lamina.metrics.Mean(name="d_loss")
        self.built = built

    @property
    def metrics(self):
        return [self.tracker]

    def train_step(self, data):
        x, _ = data
        self.tracker.update_state(torch.ones(()))
        return {"d_loss": self.tracker.result()}


def test_a_built_model_without_call_trains_through_its_own_step():
    # Keras 3.15.1: a compile() without loss or metrics needs no forward pass (the GAN of
    # the torch guide, whose model has no call()); History holds the step's logs.
    model = _TwoOptimizerModel(built=True)
    model.dense.build((None, 3))
    model.compile()
    history = model.fit(np.ones((4, 3), "float32"), np.ones((4, 1), "float32"), verbose=0)
    assert history.history == {"d_loss": [1.0]}


def test_fit_cannot_build_a_model_without_call_as_keras():
    # Keras 3.15.1: "RuntimeError: Unable to automatically build the model. ..."
    model = _TwoOptimizerModel(built=False)
    model.compile(optimizer="adam")
    with pytest.raises(RuntimeError, match="Unable to automatically build the model"):
        model.fit(np.ones((4, 3), "float32"), np.ones((4, 1), "float32"), verbose=0)


class _Distiller(lamina.Model):
    """Keras' knowledge-distillation example: compile() with extra arguments and its own
    compute_loss (no training argument), run by the standard train and test steps."""

    def __init__(self, student, teacher):
        super().__init__()
        self.teacher = teacher
        self.student = student

    def compile(self, optimizer, metrics, alpha=0.1, temperature=3):
        super().compile(optimizer=optimizer, metrics=metrics)
        self.student_loss_fn = lamina.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.distillation_loss_fn = lamina.losses.KLDivergence()
        self.alpha = alpha
        self.temperature = temperature

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, allow_empty=False):
        teacher_pred = self.teacher(x, training=False)
        student_loss = self.student_loss_fn(y, y_pred)
        distillation_loss = self.distillation_loss_fn(
            lamina.ops.softmax(teacher_pred / self.temperature, axis=1),
            lamina.ops.softmax(y_pred / self.temperature, axis=1),
        ) * (self.temperature**2)
        return self.alpha * student_loss + (1 - self.alpha) * distillation_loss

    def call(self, x):
        return self.student(x)


def test_fit_and_evaluate_use_a_models_own_compute_loss_as_keras():
    x = np.linspace(-1, 1, 48).reshape(12, 4).astype("float32")
    y = np.arange(12) % 3
    teacher = lamina.Sequential([lamina.Input((4,)), layers.Dense(3)])
    student = lamina.Sequential([lamina.Input((4,)), layers.Dense(3)])
    teacher.set_weights([np.linspace(-1, 1, 12).reshape(4, 3).astype("float32"), np.zeros(3)])
    student.set_weights([np.linspace(0.5, -0.5, 12).reshape(4, 3).astype("float32"), np.zeros(3)])
    model = _Distiller(student, teacher)
    model.compile(lamina.optimizers.SGD(0.5), metrics=["accuracy"], temperature=2)
    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    # Keras 3.15.1 (the teacher is among the model's weights, so it trains too, as there)
    np.testing.assert_allclose(history.history["loss"], [0.198462, 0.108402], atol=2e-6)
    np.testing.assert_allclose(history.history["accuracy"], [0.25, 0.333333], atol=2e-6)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), [0.10791, 0.333333], atol=2e-6)
    np.testing.assert_allclose(
        student.get_weights()[0][0], [0.353898, 0.404061, 0.469314], atol=2e-6
    )
    np.testing.assert_allclose(
        teacher.get_weights()[0][0], [-0.869602, -0.822151, -0.762793], atol=2e-6
    )


class _Recorder(lamina.Model):
    """Records the container type of the `data` each of its steps gets."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)
        self.seen = []

    def call(self, x):
        return self.dense(x)

    def _record(self, step, data):
        kind = type(data).__name__
        self.seen.append((step, kind, len(data) if isinstance(data, (list, tuple)) else None))

    def train_step(self, data):
        self._record("train", data)
        return {}

    def test_step(self, data):
        self._record("test", data)
        return {}

    def predict_step(self, data):
        self._record("predict", data)
        return self(data[0] if isinstance(data, (list, tuple)) else data)


class _PairList(lamina.utils.PyDataset):
    def __len__(self):
        return 1

    def __getitem__(self, index):
        return [X[:4], Y[:4, None].astype("float32")]


def _loader(*tensors):
    data = torch.utils.data.TensorDataset(*(torch.from_numpy(np.asarray(t)) for t in tensors))
    return torch.utils.data.DataLoader(data, batch_size=4)


def _pairs():
    while True:
        yield X[:4], Y[:4, None].astype("float32")


@pytest.mark.parametrize(
    "source, fit_kwargs, expected",
    [  # Keras 3.15.1 (torch backend): arrays give tuples, pipelines (collated by torch) lists
        ("arrays", {"batch_size": 4}, ("train", "tuple", 2)),
        ("x only", {"batch_size": 4}, ("train", "Tensor", None)),
        ("generator", {"steps_per_epoch": 1}, ("train", "list", 2)),
        ("PyDataset", {}, ("train", "list", 2)),
        ("DataLoader", {}, ("train", "list", 2)),
        ("DataLoader x only", {}, ("train", "Tensor", None)),
    ],
)
def test_custom_train_step_gets_the_batch_container_keras_hands_it(source, fit_kwargs, expected):
    y = Y[:4, None].astype("float32")
    data = {
        "arrays": {"x": X[:4], "y": y},
        "x only": {"x": X[:4]},
        "generator": {"x": _pairs()},
        "PyDataset": {"x": _PairList()},
        "DataLoader": {"x": _loader(X[:4], y)},
        "DataLoader x only": {"x": torch.utils.data.DataLoader(torch.from_numpy(X[:4]), 4)},
    }[source]
    model = _Recorder()
    model(X[:4])
    model.compile(optimizer="sgd")
    model.fit(epochs=1, verbose=0, shuffle=False, **data, **fit_kwargs)
    assert model.seen == [expected]


def test_custom_test_and_predict_steps_get_a_pipelines_whole_batch_as_a_list():
    # Keras 3.15.1: evaluate/predict over a DataLoader or PyDataset of (x, y) hand test_step
    # and predict_step the list [x, y]; over arrays, test_step (x, y) and predict_step x.
    model = _Recorder()
    model(X[:4])
    model.compile(optimizer="sgd")
    y = Y[:4, None].astype("float32")
    for data in (_loader(X[:4], y), _PairList()):
        model.seen.clear()
        model.evaluate(data, verbose=0)
        model.predict(data, verbose=0)
        assert model.seen == [("test", "list", 2), ("predict", "list", 2)]
    model.seen.clear()
    model.evaluate(X[:4], y, batch_size=4, verbose=0)
    model.predict(X[:4], batch_size=4, verbose=0)
    assert model.seen == [("test", "tuple", 2), ("predict", "Tensor", None)]
