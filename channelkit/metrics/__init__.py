"""Pure metric functions: forecast accuracy (``forecast``) and channel KPIs (``channel``)."""
