#pragma once
// A live query against a trained run (omnilab-cli query, the GUI's query console): the user's
// files and text, decoded the way the run's datasets decode their samples, through the task's
// peripherals and the body's decoder (greedy or beam search). Zero-shot: a video given to a
// task trained on images goes through that task's vision peripheral as a video (OmniNet's
// zero-shot video captioning), and an image to a video task as one frame. Free of torch headers.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/data/Preview.h"

namespace omnilab {

struct QueryRequest {
    std::string task;
    std::string image, video, audio; // files
    std::string text, question;      // typed text
    bool middleFrame = false;        // with video: only the clip's middle frame, given as an image
    // Or a sample of the task's own dataset (the attention inspector's "pick a sample"):
    // split "train" | "val" | "test" and its index; sample < 0 = none.
    std::string split = "val";
    int64_t sample = -1;
    int64_t beam = 1;
    int64_t maxLength = 0;           // 0: the task's own
    double lengthPenalty = 0.0;
    int64_t minLength = 0;           // no end of sequence before this many words (0: any time)
    bool cache = true;               // incremental decoding with a key/value cache (false: the whole prefix every step)
    bool attention = false;          // also capture the attention of the best output
    bool frames = false;             // also return the image or video frames as the model saw them
};

struct QueryHypothesis {
    std::string text;   // the decoded words (a class name for a class task)
    double score = 0;   // log-probability, length-penalised when asked
};

struct QueryResult {
    std::string task;
    bool zeroShot = false;            // an input the task was not trained on went in
    std::vector<std::string> inputs;  // input names used, e.g. "video (as the image input's peripheral)"
    std::vector<QueryHypothesis> best; // best first
    std::string reference;            // a dataset sample's own label, in words ("" otherwise)
    std::vector<std::string> references; // every reference of a sample with several (captions in val and test)
    // With QueryRequest::attention: JSON of the best output's attention, every decoder layer
    // and head: {"inputs": [{"name", "t", "s", "temporal_offset", "spatial_offset", "tokens" (typed text only)}],
    // "outputs": [words], "layers": [{"temporal": [head][step][key], "spatial": …, "gate": …}]}.
    // Step 0 is the task embedding's (it predicts the first word).
    std::string attentionJson;
    // Time spent in the decoder's search (greedy or beam), without loading or encoding.
    double decodeMilliseconds = 0;
    // With QueryRequest::attention or ::frames: the image or video frames as the model saw
    // them (after the dataset's resizing and frame sampling), for drawing the attention over them.
    std::vector<RgbImage> frames;
};

// A run opened once for many queries: experiment, datasets and model with its checkpoint.
// Not thread-safe; one session per thread.
class QuerySession {
public:
    // `checkpoint`: "last", "best" or a step (runCheckpoint). Throws Error naming the run.
    explicit QuerySession(const std::string& runDir, const std::string& checkpoint = "last");
    ~QuerySession();
    QuerySession(const QuerySession&) = delete;
    QuerySession& operator=(const QuerySession&) = delete;

    // Throws Error naming the file, the task or the missing input for bad requests.
    QueryResult ask(const QueryRequest& request);
    // Samples in a split of a task's dataset (0 when the dataset has no such split).
    int64_t splitSize(const std::string& task, const std::string& split) const;
    std::vector<std::string> taskNames() const;
    // The training step the loaded checkpoint holds.
    int64_t step() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Throws Error naming the file, the task or the missing input for bad requests.
QueryResult runQuery(const std::string& runDir, const QueryRequest& request);
// Several requests against one loaded run (the model is loaded once).
std::vector<QueryResult> runQueries(const std::string& runDir, const std::vector<QueryRequest>& requests, const std::string& checkpoint = "last");

} // namespace omnilab
