"""Cost anomaly detection: daily series per scope, robust scoring, events, root cause.

``detect(ws, engine)`` returns the incidents found in the allocated charges; see
``docs/anomalies.md`` for the method and its measured accuracy and speed.
"""

from costloop.analytics.anomalies.detect import Detection, Thresholds, detect
from costloop.analytics.anomalies.rootcause import summary
from costloop.analytics.anomalies.scoring import Scores, score_matrix

__all__ = ["Detection", "Scores", "Thresholds", "detect", "score_matrix", "summary"]
