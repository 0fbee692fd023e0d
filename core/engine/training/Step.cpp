#include "core/engine/training/Step.h"

#include "core/api/Data.h"
#include "core/engine/Model.h"

namespace omnilab {

torch::Tensor taskLoss(MultiTaskModel& model, const std::string& task, const Batch& batch, torch::Device device)
{
    auto loss = model.head(task).loss(model.forward(task, batch), batch.target.to(device));
    if (auto aux = model.body().auxiliaryLoss(task); aux.defined())
        loss = loss + aux;
    return loss;
}

} // namespace omnilab
