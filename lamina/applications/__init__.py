"""Model zoo: classic CNN architectures with Keras' `keras.applications` arguments, and
pretrained weights (`weights="imagenet"`, found as `_weights` describes: `LAMINA_WEIGHTS`
folders, the cache, or a checked download).
"""
