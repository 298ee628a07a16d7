"""Checks exported ONNX models with the onnx package's checker, shape inference included.

    onnx_check.py MODEL.onnx...

Prints one line per model: "ok PATH", or "newer PATH: OP..." when the model uses operators that
the installed onnx does not know at the model's opset (onnx 1.12 stops at opset 17, before Mish),
so it cannot judge them. Exits 1 with the checker's message on the first invalid model.
"""
import sys

import onnx
import onnx.checker
import onnx.defs


def unknown_ops(model):
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    unknown = set()
    for node in model.graph.node:
        try:
            onnx.defs.get_schema(node.op_type, opset, node.domain)
        except onnx.defs.SchemaError:
            unknown.add(node.op_type)
    return sorted(unknown)


def main(paths):
    for path in paths:
        model = onnx.load(path)
        unknown = unknown_ops(model)
        if unknown:
            print(f"newer {path}: {' '.join(unknown)} (onnx {onnx.__version__} knows opsets up to {onnx.defs.onnx_opset_version()})")
            continue
        try:
            onnx.checker.check_model(model, full_check=True)
        except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
            print(f"invalid {path}: {e}")
            return 1
        print(f"ok {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
