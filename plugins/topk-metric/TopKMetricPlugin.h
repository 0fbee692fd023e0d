#pragma once
// Example plugin: adds `top-k-accuracy` to the metric registry, the way any plugin adds
// dataset formats, peripherals, bodies, heads, weightings or samplers.
#include <QObject>

#include "core/plugin/PluginInterface.h"

class TopKMetricPlugin : public QObject, public omnilab::PluginInterface {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID OmnilabPluginInterface_iid FILE "plugin.json")
    Q_INTERFACES(omnilab::PluginInterface)
public:
    QString pluginName() const override { return QStringLiteral("top-k-metric"); }
    void registerComponents() override;
};
