#pragma once
// A multi-task model assembled from an experiment: named peripherals, one shared body,
// one head per task. Shapes are found by passing one real sample through each part.
#include <map>
#include <memory>
#include <string>

#include "core/config/Experiment.h"
#include "core/api/Registries.h"
#include "core/runtime/Precision.h"
#include "core/mtl/Confusion.h"

namespace omnilab {

class MultiTaskModel : public torch::nn::Module {
public:
    MultiTaskModel(const Experiment& experiment, const std::map<std::string, DatasetSplits>& data);

    // The task's head output for a batch (inputs moved to the model's device here), as
    // float32 whatever the precision: losses and metrics are computed from it in fp32.
    torch::Tensor forward(const std::string& task, const Batch& batch);
    // What forward and generate compute in (bf16/fp16: autocast of matrix products and
    // convolutions; the weights stay fp32): training.precision resolved for the device
    // (choosePrecision) when the model is built; callers that run parts of the model
    // themselves open an AutocastScope with it. setPrecision overrides it (tests).
    void setPrecision(Precision precision, const std::string& reason);
    Precision precision() const { return precision_.precision; }
    const PrecisionChoice& precisionChoice() const { return precision_; }
    // Free decoding of the batch for the task (bodies with the SequenceGenerator capability).
    bool generates() const;
    Generation generate(const std::string& task, const Batch& batch, const GenerateOptions& options);
    // The task's bound inputs through their peripherals, and their masks.
    std::map<std::string, torch::Tensor> encode(const std::string& task, const Batch& batch, std::map<std::string, torch::Tensor>& masks);
    BodyModule& body();
    PeripheralModule& peripheral(const std::string& name);
    torch::Device device() const;
    HeadModule& head(const std::string& task);
    int64_t parameterCount() const;
    // The parameters every task shares (the body's): what gradient-balancing weightings balance.
    std::vector<torch::Tensor> sharedParameters() const;
    // The task's own parameters (its head's), which a per-task learning rate applies to.
    std::vector<torch::Tensor> headParameters(const std::string& task);

private:
    struct TaskParts {
        std::map<std::string, std::string> inputs; // dataset input -> peripheral name
        std::shared_ptr<HeadModule> head;
    };
    std::map<std::string, std::shared_ptr<PeripheralModule>> peripherals_;
    std::shared_ptr<BodyModule> body_;
    std::map<std::string, TaskParts> tasks_;
    mutable torch::Tensor anchor_; // see device()
    PrecisionChoice precision_;
};

// Loads every dataset the experiment names, once each. Errors name the dataset's file.
// `cacheDir`: where formats keep what they train from the data (SentencePiece models) when
// the dataset's own "cache_dir" is empty; the trainer passes <run dir>/tokenizers.
std::map<std::string, DatasetSplits> loadDatasets(const Experiment& experiment, const std::string& cacheDir = "");

// Evaluates one task on a split: metric name -> value, plus "loss". maxBatches 0 = all.
// `cancelled` is polled between batches; when it returns true, Cancelled is thrown.
// `confusion`, when given and the task is a classification (B × classes scores, one class
// id per sample), receives the confusion matrix of its arg-max predictions and, in its
// `samples`, each sample's position in the split, truth, prediction and confidence.
std::map<std::string, double> evaluateTask(MultiTaskModel& model, const TaskSpec& task, const Dataset& data,
                                           int64_t batchSize, int64_t maxBatches, torch::Device device,
                                           const std::function<bool()>& cancelled = {}, int workers = 0,
                                           ConfusionMatrix* confusion = nullptr);

// k-fold resampling: each dataset's train split is cut into `folds` seeded folds
// (core/mtl/Resampling); fold `fold` (0-based) becomes the val and test splits and the
// other folds the train split. Throws Error when a train split has fewer than `folds` samples.
void applyFold(std::map<std::string, DatasetSplits>& data, int64_t folds, int64_t fold, uint64_t seed);

// Loads a checkpoint's model into `model` on `device`; returns the step it was saved at.
// Throws Error naming the file.
int64_t loadModelCheckpoint(MultiTaskModel& model, const std::string& checkpoint, torch::Device device);
// Module::load, refusing a tensor whose size differs from the module's (load alone would
// silently give the module the checkpoint's size): the message names the tensor and both sizes.
void loadMatching(torch::nn::Module& module, torch::serialize::InputArchive& archive);

// For a new run: every peripheral whose options name "init_from" (a run directory or a
// checkpoint file) takes the weights of the peripheral of the same name in that checkpoint.
// Returns a line per peripheral initialised; throws Error naming the file and peripheral
// when the checkpoint has no such peripheral or its shapes differ.
std::vector<std::string> initPeripheralsFrom(const Experiment& experiment, MultiTaskModel& model, torch::Device device);

torch::Device resolveTorchDevice();

} // namespace omnilab
