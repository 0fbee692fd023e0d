#pragma once
// The C interface of the omnilab_sentencepiece module. Debian's libsentencepiece carries
// its own protobuf 3.14 code, which clashes with the protobuf libtorch loads, so the module
// is never linked: Tokenizer.cpp dlopen()s it with RTLD_DEEPBIND (see docs/NOTES.md) and
// talks to it only through these plain C functions. Strings are UTF-8; errors are written
// into the caller's buffer and signalled by a negative return (or a null handle).
#include <cstddef>
#include <cstdint>

extern "C" {

struct OmnilabSpmApi {
    int version; // OMNILAB_SPM_API_VERSION of the module
    // Trains a model from a file of sentences (one per line) and writes prefix.model and
    // prefix.vocab. modelType: "bpe" or "unigram". Ids 0..3 are <pad>, <unk>, <bos>, <eos>.
    int (*train)(const char* inputFile, const char* modelPrefix, int vocabSize, const char* modelType, char* error, size_t errorSize);
    void* (*load)(const char* modelFile, char* error, size_t errorSize);
    void (*release)(void* model);
    int (*pieceCount)(void* model);
    // Writes up to `capacity` ids and returns how many there are (call again with more room
    // when that exceeds capacity); negative on error.
    int (*encode)(void* model, const char* text, int32_t* ids, int capacity);
    // Writes up to `capacity` bytes (no terminator) and returns the full length; negative on error.
    int (*decode)(void* model, const int32_t* ids, int count, char* text, int capacity);
    int (*piece)(void* model, int id, char* text, int capacity);
};

#define OMNILAB_SPM_API_VERSION 1

typedef const OmnilabSpmApi* (*OmnilabSpmEntry)();
const OmnilabSpmApi* omnilab_spm_api();
}
