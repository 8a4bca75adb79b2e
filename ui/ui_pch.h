// Precompiled header of the ui libraries: Qt Widgets and QCustomPlot (~2 s of parsing per file
// without it). No LibTorch: ui/ never includes a LibTorch header.
#pragma once
#include <qcustomplot.h>
#include <QtWidgets>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>
