"""CallbackList: which batch hooks may change the model between two compiled steps."""

import lamina
from lamina.callbacks import Callback, CallbackList, LambdaCallback, ModelCheckpoint


class Unfreeze(Callback):
    def on_train_batch_end(self, batch, logs=None):
        self.model.layers[0].trainable = True


class SavingAndChanging(ModelCheckpoint):
    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)


class EpochOnly(Callback):
    def on_epoch_end(self, epoch, logs=None):
        pass


def test_only_lamina_read_only_hooks_and_no_ops_leave_the_model_alone(tmp_path):
    path = str(tmp_path / "m.keras")
    read_only = [
        CallbackList([], add_history=True, add_progbar=True),
        CallbackList([ModelCheckpoint(path, save_freq=2), lamina.callbacks.TerminateOnNaN()]),
        CallbackList([EpochOnly(), lamina.callbacks.EarlyStopping()]),
    ]
    for callbacks in read_only:
        assert all(callbacks.batch_hooks_read_only(m) for m in ("train", "test", "predict"))
    lam = CallbackList([LambdaCallback(on_train_batch_end=lambda batch, logs: None)])
    assert not lam.batch_hooks_read_only("train")
    assert lam.batch_hooks_read_only("test")  # its hook is on training batches only
    for callback in (Unfreeze(), SavingAndChanging(path), lamina.callbacks.TensorBoard(tmp_path)):
        assert not CallbackList([callback]).batch_hooks_read_only("train")


def test_the_progress_bar_runs_last_and_prints_what_callbacks_add(capsys):
    # Keras appends History, then ProgbarLogger, after the user's callbacks.
    import numpy as np

    class Extra(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            print("begin hook")

        def on_epoch_end(self, epoch, logs=None):
            logs["extra"] = 0.5

    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 3)), np.ones((4, 1)), epochs=1, verbose=2, callbacks=[Extra()])
    out = capsys.readouterr().out
    assert "extra: 0.5000" in out
    assert out.index("begin hook") < out.index("1/1")
    names = [type(c).__name__ for c in CallbackList([Extra()], True, True).callbacks]
    assert names == ["Extra", "History", "ProgbarLogger"]


def test_what_epoch_callbacks_add_reaches_history_but_not_on_train_end():
    # Keras 3.15.1 hands each on_epoch_end a copy of the logs: ReduceLROnPlateau's
    # 'learning_rate' is in History, not in the logs of on_train_end.
    import numpy as np

    seen = {}

    class Spy(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen["epoch"] = sorted(logs)

        def on_train_end(self, logs=None):
            seen["train_end"] = sorted(logs)

    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(1)])
    model.compile("sgd", "mse")
    reduce = lamina.callbacks.ReduceLROnPlateau(monitor="loss")
    history = model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0, callbacks=[reduce, Spy()])
    assert seen == {"epoch": ["learning_rate", "loss"], "train_end": ["loss"]}
    assert sorted(history.history) == ["learning_rate", "loss"]


def test_params_are_none_until_fit_sets_them():
    # Keras 3.15.1: Callback().params is None.
    assert Callback().params is None
