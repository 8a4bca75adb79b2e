// Precompiled header of the ui libraries: Qt Widgets and QCustomPlot (~2 s of parsing per file
// without it). No LibTorch: ui/ never includes a LibTorch header.
#pragma once
#include <QtWidgets>
#include <qcustomplot.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>
