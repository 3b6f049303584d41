"""Serving models: the scoring server (``wayline models serve``), batch prediction
(``wayline models predict``), model environments and Docker images.

Example::

    import uvicorn
    from wayline.serving import ScoringSettings, create_scoring_app

    uvicorn.run(create_scoring_app("runs:/<run_id>/model", ScoringSettings()), port=5001)
"""

from __future__ import annotations

from wayline.serving.app import ScoringApp, create_scoring_app
from wayline.serving.settings import ScoringSettings

__all__ = ["ScoringApp", "ScoringSettings", "create_scoring_app"]
