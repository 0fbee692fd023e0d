#pragma once
// Adds the `torchscript` peripheral: a TorchScript file (for instance a ResNet-152 a user
// exported with torch.jit.script/trace and ImageNet weights, without its pool and fc) as a
// frozen vision peripheral for OmniNet. This is how pre-trained weights come in: nothing is
// downloaded. Its feature map (B × C × h × w, or B × C) becomes h·w spatial positions
// projected to d_model by a trainable Linear layer; videos go through it frame by frame.
#include <QObject>

#include "core/plugin/PluginInterface.h"

class TorchScriptPeripheralPlugin : public QObject, public omnilab::PluginInterface {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID OmnilabPluginInterface_iid FILE "plugin.json")
    Q_INTERFACES(omnilab::PluginInterface)
public:
    QString pluginName() const override { return QStringLiteral("torchscript-peripheral"); }
    void registerComponents() override;
};
