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
