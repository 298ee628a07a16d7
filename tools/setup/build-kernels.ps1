# Windows counterpart of build-kernels.sh (it runs on Linux too): compiles kernels/*.cu to PTX
# under kernels/build/ with whatever nvcc is present, with MSVC's cl.exe as the host compiler
# (the one nvcc supports on Windows, found on PATH or through vswhere):
#   kernels/build/<m>.ptx          -arch=compute_80 (every nvcc; JIT-compiled by the driver on sm_80+)
#   kernels/build/sm_90/<m>.ptx    -arch=sm_90 PTX, and <m>.cubin native H100 code (nvcc 12+ only)
# then assembles each PTX with `ptxas -v` for sm_90 and fails on spills or stack frames.
# Without nvcc or cl.exe it says so and exits 0: the engine builds and runs on the CPU without kernels.
# Environment: NVCC, NVCC_CCBIN, KERNELS_OUT, SKIP_PTX_CHECK=1, LINEINFO=1, as for build-kernels.sh.
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'find-tools.ps1')
Set-Location (Join-Path $PSScriptRoot '..' '..')
function Write-Log([string]$Message) { [Console]::Error.WriteLine("[kernels] $Message") }

$nvcc = Find-CudaTool 'nvcc'
if (-not $nvcc) {
    Write-Log 'no nvcc found: GPU kernels are not built (the CPU backend still works)'
    exit 0
}
$out = if ($env:KERNELS_OUT) { $env:KERNELS_OUT } else { Join-Path 'kernels' 'build' }
$release = [regex]::Match((& $nvcc --version | Out-String), 'release (\d+)\.(\d+)')
$major = [int]$release.Groups[1].Value
Write-Log "$nvcc (CUDA $major.$($release.Groups[2].Value)) -> $out"

$ccbin = @()
if ($env:NVCC_CCBIN) { $ccbin = '-ccbin', $env:NVCC_CCBIN }
elseif ($IsWindows) {
    $msvc = Find-MsvcBin
    if (-not $msvc) {
        Write-Log "nvcc needs MSVC's cl.exe and none was found: install Visual Studio 2022 or its Build Tools with 'Desktop development with C++' (https://visualstudio.microsoft.com/downloads/), or run from a Developer PowerShell; GPU kernels are not built"
        exit 0
    }
    $ccbin = '-ccbin', $msvc
}
elseif ($major -lt 12 -and (Get-Command clang-14 -ErrorAction SilentlyContinue)) {
    # As in build-kernels.sh: nvcc 11.8 rejects gcc newer than 11; clang-14 is supported there.
    $gcc = (& gcc -dumpversion 2>$null) -as [string]
    if ([int]($gcc -split '\.')[0] -gt 11) { $ccbin = '-ccbin', 'clang-14' }
}

$flags = @('-std=c++17', '-O3')
if ($env:LINEINFO -eq '1') { $flags += '-lineinfo' }
$sm90 = Join-Path $out 'sm_90'
New-Item -ItemType Directory -Force $out | Out-Null
Remove-Item (Join-Path $out '*.ptx') -ErrorAction SilentlyContinue
if ($major -ge 12) {
    New-Item -ItemType Directory -Force $sm90 | Out-Null
    Remove-Item (Join-Path $sm90 '*.ptx'), (Join-Path $sm90 '*.cubin') -ErrorAction SilentlyContinue
}

function Invoke-Nvcc([string[]]$Arguments) {
    & $nvcc @ccbin @flags @Arguments
    if ($LASTEXITCODE -ne 0) { Write-Log "nvcc failed: $($Arguments -join ' ')"; exit 1 }
}
foreach ($src in Get-ChildItem (Join-Path 'kernels' '*.cu') | Sort-Object Name) {
    $m = $src.BaseName
    Invoke-Nvcc @('-ptx', '-arch=compute_80', '-o', (Join-Path $out "$m.ptx"), $src.FullName)
    if ($major -ge 12) {
        Invoke-Nvcc @('-ptx', '-arch=sm_90', '-o', (Join-Path $sm90 "$m.ptx"), $src.FullName)
        Invoke-Nvcc @('-cubin', '-arch=sm_90', '-o', (Join-Path $sm90 "$m.cubin"), $src.FullName)
    }
}
Write-Log "built $((Get-ChildItem (Join-Path $out '*.ptx')).Count) PTX modules"

if ($env:SKIP_PTX_CHECK -eq '1') { exit 0 }
$ptxas = Find-CudaTool 'ptxas'
if (-not $ptxas) { [Console]::Error.WriteLine('[ptx] no ptxas found: nothing checked'); exit 0 }
$scratch = Join-Path ([IO.Path]::GetTempPath()) "engine-ptxas-$PID.cubin"
$bad = 0
foreach ($dir in @($out) + @(if (Test-Path $sm90) { $sm90 })) {
    $before = $bad
    foreach ($ptx in Get-ChildItem (Join-Path $dir '*.ptx') | Sort-Object Name) {
        $report = & $ptxas -arch=sm_90 -v $ptx.FullName -o $scratch 2>&1 | Out-String
        if ($LASTEXITCODE -ne 0) { [Console]::Error.WriteLine($report); [Console]::Error.WriteLine("[ptx] ptxas failed on $($ptx.FullName)"); exit 1 }
        # ptxas -v: "Compiling entry function 'k'", then "N bytes stack frame, S bytes spill stores, L bytes spill loads".
        $kernel = ''
        foreach ($line in $report -split "`r?`n") {
            if ($line -match "Compiling entry function '([^']+)'") { $kernel = $Matches[1] }
            elseif ($line -match '(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads' -and
                    ([int]$Matches[1] + [int]$Matches[2] + [int]$Matches[3]) -gt 0) {
                [Console]::Error.WriteLine("[ptx] $($ptx.BaseName): $kernel uses local memory: $($line.Trim())")
                $bad++
            }
        }
    }
    [Console]::Error.WriteLine("[ptx] $(Split-Path $dir -Leaf): " + ($bad -eq $before ? 'no spills, no stack frames' : "$($bad - $before) kernels use local memory"))
}
Remove-Item $scratch -ErrorAction SilentlyContinue
if ($bad -gt 0) { exit 1 }
