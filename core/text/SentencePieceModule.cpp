// The omnilab_sentencepiece module: SentencePiece behind a C interface, loaded at run time
// with RTLD_DEEPBIND so that its bundled protobuf does not meet libtorch's (docs/NOTES.md).
// It must not include torch or Qt, and nothing links it.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include "core/text/SentencePieceApi.h"

namespace {

void setError(char* error, size_t size, const std::string& message)
{
    if (!error || size == 0)
        return;
    const size_t n = std::min(size - 1, message.size());
    std::memcpy(error, message.data(), n);
    error[n] = '\0';
}

int copyOut(const std::string& s, char* text, int capacity)
{
    if (text && capacity > 0)
        std::memcpy(text, s.data(), std::min<size_t>(static_cast<size_t>(capacity), s.size()));
    return static_cast<int>(s.size());
}

int train(const char* inputFile, const char* modelPrefix, int vocabSize, const char* modelType, char* error, size_t errorSize)
{
    try {
        const std::string args = std::string("--input=") + inputFile + " --model_prefix=" + modelPrefix
            + " --vocab_size=" + std::to_string(vocabSize) + " --model_type=" + modelType
            + " --pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3 --character_coverage=1.0"
            + " --hard_vocab_limit=false --minloglevel=2 --num_threads=1";
        const auto status = sentencepiece::SentencePieceTrainer::Train(args);
        if (!status.ok()) {
            setError(error, errorSize, status.ToString());
            return -1;
        }
        return 0;
    } catch (const std::exception& e) {
        setError(error, errorSize, e.what());
        return -1;
    }
}

void* load(const char* modelFile, char* error, size_t errorSize)
{
    auto model = std::make_unique<sentencepiece::SentencePieceProcessor>();
    const auto status = model->Load(modelFile);
    if (!status.ok()) {
        setError(error, errorSize, status.ToString());
        return nullptr;
    }
    return model.release();
}

void release(void* model) { delete static_cast<sentencepiece::SentencePieceProcessor*>(model); }

int pieceCount(void* model) { return static_cast<sentencepiece::SentencePieceProcessor*>(model)->GetPieceSize(); }

int encode(void* model, const char* text, int32_t* ids, int capacity)
{
    std::vector<int> out;
    if (!static_cast<sentencepiece::SentencePieceProcessor*>(model)->Encode(text, &out).ok())
        return -1;
    for (int i = 0; i < std::min<int>(capacity, static_cast<int>(out.size())); ++i)
        ids[i] = out[static_cast<size_t>(i)];
    return static_cast<int>(out.size());
}

int decode(void* model, const int32_t* ids, int count, char* text, int capacity)
{
    std::vector<int> in(ids, ids + count);
    std::string out;
    if (!static_cast<sentencepiece::SentencePieceProcessor*>(model)->Decode(in, &out).ok())
        return -1;
    return copyOut(out, text, capacity);
}

int piece(void* model, int id, char* text, int capacity)
{
    auto* m = static_cast<sentencepiece::SentencePieceProcessor*>(model);
    if (id < 0 || id >= m->GetPieceSize())
        return -1;
    return copyOut(m->IdToPiece(id), text, capacity);
}

const OmnilabSpmApi api{OMNILAB_SPM_API_VERSION, train, load, release, pieceCount, encode, decode, piece};

} // namespace

extern "C" __attribute__((visibility("default"))) const OmnilabSpmApi* omnilab_spm_api() { return &api; }
