"""The training engine behind `Model.compile`, `fit`, `evaluate` and `predict`: the trainer,
its steps (eager or through `torch.compile`), data adapters, the progress bar, distributed
data parallelism and host memory. Users reach it through the model's methods."""
