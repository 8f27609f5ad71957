"""Input pipelines, as `tf.data`'s everyday subset: `lamina.data.Dataset`."""

from lamina.data.dataset import Dataset

__all__ = ["Dataset"]
