# Windows counterpart of install-deps.sh: checks what the engine uses and, for each missing piece,
# names where to get it. It installs nothing (the NVIDIA installers need a person's consent and
# a reboot, vcpkg a chosen folder), so nothing is ever half-installed. Without any of them the
# engine still builds and trains on the CPU; images need libjpeg-turbo and libspng.
#   nvcuda.dll                   the NVIDIA display driver (GPU runs)
#   nvcc + cuBLAS                the CUDA toolkit (kernels, GPU runs)
#   cl.exe                       MSVC, nvcc's host compiler on Windows
#   cudnn64_9.dll                cuDNN 9 (GPU convolutions)
#   turbojpeg.dll, spng.dll      libjpeg-turbo and libspng (JPEG and PNG decoding)
Set-StrictMode -Version Latest
. (Join-Path $PSScriptRoot 'find-tools.ps1')

$folders = Get-WindowsLibraryFolders
$missing = [Collections.Generic.List[string]]::new()
function Test-Dep([bool]$Present, [string]$What) { if (-not $Present) { $missing.Add($What) } }

Test-Dep ($null -ne (Find-Library @('nvcuda.dll') $folders)) `
    'NVIDIA display driver (nvcuda.dll, GPU runs): the driver for your GPU from https://www.nvidia.com/Download/index.aspx'
Test-Dep ($null -ne (Find-CudaTool 'nvcc')) `
    'CUDA toolkit (nvcc, cublas64_*.dll; kernels and GPU runs): the Windows installer from https://developer.nvidia.com/cuda-downloads (sets CUDA_PATH)'
Test-Dep ($null -ne (Find-Library @('cublas64_13.dll', 'cublas64_12.dll', 'cublas64_11.dll') $folders) -or $null -eq (Find-CudaTool 'nvcc')) `
    'cuBLAS (cublas64_*.dll): part of the CUDA toolkit; reinstall it with the cuBLAS component or set ENGINE_CUDA_LIB_PATH to its folder'
Test-Dep ($null -ne (Find-MsvcBin)) `
    "MSVC (cl.exe, nvcc's host compiler): Visual Studio 2022 or its Build Tools with the 'Desktop development with C++' workload, https://visualstudio.microsoft.com/downloads/"
Test-Dep ($null -ne (Find-Library @('cudnn64_9.dll') $folders)) `
    'cuDNN 9 (cudnn64_9.dll, GPU convolutions): the Windows installer from https://developer.nvidia.com/cudnn-downloads, or `pip install nvidia-cudnn-cu12` in a venv named by ENGINE_PYTHON_VENV'
Test-Dep ($null -ne (Find-Library @('turbojpeg.dll') $folders)) `
    'libjpeg-turbo (turbojpeg.dll, JPEG decoding): `vcpkg install libjpeg-turbo:x64-windows` with %VCPKG_ROOT%\installed\x64-windows\bin on PATH, or the libjpeg-turbo-*-vc-x64.exe installer from https://github.com/libjpeg-turbo/libjpeg-turbo/releases'
Test-Dep ($null -ne (Find-Library @('spng.dll') $folders)) `
    'libspng (spng.dll, PNG decoding): `vcpkg install libspng:x64-windows` with %VCPKG_ROOT%\installed\x64-windows\bin on PATH'

foreach ($m in $missing) { [Console]::Error.WriteLine("[deps] missing: $m") }
if ($missing.Count -gt 0) {
    [Console]::Error.WriteLine('[deps] nothing was installed; the CPU engine still builds and trains, and tests that need what is missing are skipped with the reason')
}
exit 0
