"""What the provider autologgers (``wayline.openai``, ``wayline.anthropic``) share.

An autologger patches the SDK's resource methods (``Completions.create`` and the like) with
wrappers that turn each call into a span and hand the call's result back untouched:

* ``integration``: one provider's patches (installed once, removed on disable) and its settings;
* ``calls``: the wrappers themselves, sync and async, and how a call's inputs, result and error
  become the span's inputs, outputs, attributes and status;
* ``streams``: streamed responses keep streaming to the caller; each chunk is recorded as a span
  event and the span ends, with the assembled message as its outputs, when the stream is
  exhausted, fails, is closed or is dropped;
* ``values``: SDK objects as JSON-ready values.

Nothing here imports an SDK: the provider packages pass in what they import themselves.
"""
