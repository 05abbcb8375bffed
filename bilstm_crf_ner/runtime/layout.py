"""File names and metadata keys of an exported model folder (shared by exporter and runtime)."""

EXPORT_FORMAT = "bilstm_crf_ner-export"
EXPORT_FORMAT_VERSION = 1
METADATA_FILE = "metadata.json"
ONNX_FILE = "model.onnx"
IR_XML_FILE = "model.xml"
IR_BIN_FILE = "model.bin"
OVMS_FOLDER = "ovms"
INT8_XML_FILE = "model_int8.xml"
INT8_BIN_FILE = "model_int8.bin"
ORT_INT8_FILE = "model_int8.onnx"
