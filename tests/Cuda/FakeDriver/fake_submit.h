// Shared by the fake cuBLAS and cuDNN: library work goes through the fake driver's stream, which
// runs it at once or, while the stream is capturing, records it for the graph to replay.
#pragma once
#include <functional>
#include <utility>

extern "C" int fake_cuda_submit(void* stream, std::function<int()>* work);

template <typename F>
int fake_submit(void* stream, F&& work)
{
    std::function<int()> w(std::forward<F>(work));
    return fake_cuda_submit(stream, &w);
}
