"""phyll-tf-twin: TensorFlow digital twins of physical systems, and the physics-aware (``pat``)
and in-silico (``in-silico``) training baselines.

Importing this package does not import TensorFlow; see :mod:`phyll_tf_twin.twin` (fit, save,
load, evaluate a twin), :mod:`phyll_tf_twin.system` (the ``twin`` system) and
:mod:`phyll_tf_twin.rules` (the learning rules).
"""

__version__ = "0.1.0"
