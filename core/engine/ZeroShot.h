#pragma once
// Zero-shot scoring of a trained run against a video folder whose ground truth names each
// clip's colour and shape (the demo's hmdb/ground_truth.tsv): every clip of a split is
// captioned with an image-captioning task (a task never trained on video), optionally asked
// about with the VQA task, and each caption is checked strictly: the colour words it holds
// must be exactly the clip's colour and its shape words exactly the clip's shape. The same
// check on the captioning task's own single-shape test images gives the in-domain ceiling.
// Nothing here trains, and no clip is left out. Free of torch headers.
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/data/Preview.h"

namespace omnilab {

struct ClipTruth {
    std::string file;  // path of the video
    std::string clip;  // as the table names it, relative to the folder
    std::string action, colour, shape, caption;
};

// DIR/ground_truth.tsv (clip<TAB>action<TAB>colour<TAB>shape<TAB>caption) restricted to a
// split of HMDB's split files DIR/splits/*_test_split1.txt (1 train, 2 test): "train",
// "test" or "all". Throws Error naming the file and line of a malformed row, a missing file,
// or a split that selects no clip.
std::vector<ClipTruth> loadClipTruth(const std::string& dir, const std::string& split);

// The words that name a colour or a shape: every colour and shape of the truth table, with
// the shapes' plurals.
struct GroundingWords {
    std::set<std::string> colours;
    std::map<std::string, std::string> shapes; // word (singular or plural) -> shape
};
GroundingWords groundingWords(const std::vector<ClipTruth>& truth);

struct CaptionCheck {
    bool colour = false, shape = false, both = false;
    bool empty = false;
    bool degenerate = false; // a loop: a word three times in a row, or a content word three times
};
CaptionCheck checkCaption(const std::string& caption, const std::string& colour, const std::string& shape, const GroundingWords& words);

// The one colour and one shape a set of references agree on, when every reference names
// exactly one colour and one (singular) shape: a single-shape image. False otherwise.
bool singleShapeTruth(const std::vector<std::string>& references, const GroundingWords& words, std::string* colour, std::string* shape);

struct ZeroShotOptions {
    std::string videos;             // the video folder with ground_truth.tsv
    std::string split = "test";     // train | test | all
    std::string task = "caption";   // an image-captioning task of the run
    std::string vqaTask = "vqa";    // with questions: an image VQA task of the run
    int64_t beam = 1;
    // > 1: the caption stays the beam-`beam` one, and a search of this width lists its
    // hypotheses as alternatives (the live view shows the greedy caption and the beam's).
    int64_t alternativesBeam = 0;
    bool questions = false;         // also ask "what color is the shape?" and "what shape is it?"
    bool images = false;            // also caption the task's own single-shape test images
    bool middleFrame = false;       // give each clip's middle frame as an image instead of the clip
};

struct ZeroShotItem {
    std::string file, action, colour, shape;
    std::string caption;
    std::vector<std::string> alternatives; // beam: the other hypotheses, best first
    CaptionCheck check;
    std::string colourAnswer, shapeAnswer; // with questions
    std::vector<RgbImage> frames;          // with captionClips(…, keepFrames): the frames the model saw
};

struct ZeroShotTally {
    int64_t items = 0, colour = 0, shape = 0, both = 0, empty = 0, degenerate = 0, colourAnswers = 0, shapeAnswers = 0;
    void add(const ZeroShotItem& item);
    nlohmann::json toJson() const;
};

struct ZeroShotReport {
    std::vector<ZeroShotItem> clips;
    std::map<std::string, ZeroShotTally> perAction;
    ZeroShotTally total;
    std::vector<ZeroShotItem> images; // with options.images: single-shape test images (action "image")
    ZeroShotTally imageTotal;
    int64_t imagesSeen = 0;           // test images looked at (single-shape or not)
    nlohmann::json toJson() const;
};

// Throws Error naming the run, folder, file or task for bad input. `progress(done, total)`
// is called after each item when given.
ZeroShotReport runZeroShot(const std::string& runDir, const ZeroShotOptions& options,
                           const std::function<void(int64_t, int64_t)>& progress = {});

class QuerySession;
struct Experiment;

// What the live view follows in an experiment: a task that captions images (a sequence head
// on an `image` input) and a video-folder dataset whose folder has a ground_truth.tsv; ""
// when there is none.
std::string imageCaptionTask(const Experiment& experiment);
std::string groundTruthVideoFolder(const Experiment& experiment);
// `count` clips of a split, one action after another (the first clip of each action, then
// the second, …), so a few clips cover every action.
std::vector<ClipTruth> clipsAcrossActions(const std::vector<ClipTruth>& clips, size_t count);

// Captions (and with options.questions asks about) each clip with an open run: the live
// Zero-shot view opens a session on each new checkpoint and calls this.
std::vector<ZeroShotItem> captionClips(QuerySession& session, const std::vector<ClipTruth>& clips, const GroundingWords& words,
                                       const ZeroShotOptions& options, bool keepFrames = false);

// The report as the CLI prints it: a table per action and the totals.
std::string formatZeroShot(const ZeroShotReport& report, const ZeroShotOptions& options);

} // namespace omnilab
