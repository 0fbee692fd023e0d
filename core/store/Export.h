#pragma once
// Runs exported where the ecosystem reads them (issue 16, part 5): TensorBoard event files,
// written by our own small encoder (TFRecord framing with masked CRC32C around protobuf
// Event messages; no protobuf library, whose version would clash with LibTorch's), and one
// tidy long-format CSV of the metrics of several runs. Torch-free.
#include <cstdint>
#include <string>
#include <vector>

namespace omnilab {

// CRC-32C (Castagnoli), and TFRecord's mask of it.
uint32_t crc32c(const void* data, size_t size);
uint32_t maskedCrc32c(const void* data, size_t size);

// The TensorBoard tag of a stored metric: train loss "train/loss/<task>", the learning rate
// "lr", samples/s "samples_per_s", evaluations "<split>/<task>/<metric>".
std::string tensorBoardTag(const std::string& task, const std::string& split, const std::string& name);

// Writes the run in `runDir` (its store's metrics as scalars, its interventions as text
// summaries tagged "interventions") to OUT_DIR/<run folder name>/events.out.tfevents.<time>.omnilab.
// Returns the file. Throws Error naming the run, the store or the file.
std::string exportTensorBoard(const std::string& runDir, const std::string& outDir);

// One CSV of every metric of the runs: run_id,run_name,run_dir,split,task,metric,step,value,wall_time
// (and every intervention as metric "intervention:<field>" with its new value). Returns the rows written.
int64_t exportCsv(const std::vector<std::string>& runDirs, const std::string& file);

} // namespace omnilab
