# SPDX-License-Identifier: MIT
"""The desktop window: widgets only.

Widgets never import torch or the model code. They send requests to
``aegui.app`` objects and update themselves from those objects' signals.
"""
