# Dot-sourced by check-deps.ps1 and build-kernels.ps1: where nvcc, ptxas, MSVC's cl.exe and the
# native libraries are on Windows (and, for nvcc and ptxas, on Linux too). Each returns $null when absent.
# Paths are joined with [IO.Path]::Join: Join-Path fails on a drive that does not exist.

function Get-ProgramFiles { if ($env:ProgramFiles) { $env:ProgramFiles } else { 'C:\Program Files' } }

# "v12.4" -> 12.4, "14.40.33807" -> 14.40.33807; anything else sorts last.
function ConvertTo-Version([string]$Name) {
    $m = [regex]::Match($Name, '\d+(\.\d+)+')
    $v = $null
    if ($m.Success -and [version]::TryParse($m.Value, [ref]$v)) { $v } else { [version]'0.0' }
}

# CUDA toolkits, newest first: CUDA_PATH, then Program Files\NVIDIA GPU Computing Toolkit\CUDA\v*.
function Get-CudaToolkits {
    $found = @()
    if ($env:CUDA_PATH) { $found += $env:CUDA_PATH }
    $root = [IO.Path]::Join((Get-ProgramFiles), 'NVIDIA GPU Computing Toolkit', 'CUDA')
    if (Test-Path $root) {
        $found += Get-ChildItem $root -Directory -Filter 'v*' |
            Sort-Object { ConvertTo-Version $_.Name } -Descending |
            ForEach-Object FullName
    }
    $found
}

# A CUDA tool (nvcc, ptxas): the NVCC variable for nvcc, PATH, then the toolkits' bin folders.
function Find-CudaTool([string]$Name) {
    if ($Name -eq 'nvcc' -and $env:NVCC) { return $env:NVCC }
    $cmd = Get-Command $Name -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($cmd) { return $cmd.Source }
    $exe = $IsWindows ? "$Name.exe" : $Name
    foreach ($t in Get-CudaToolkits) {
        $p = [IO.Path]::Join($t, 'bin', $exe)
        if (Test-Path $p) { return $p }
    }
    $null
}

# The folder of MSVC's x64 cl.exe: PATH (a Developer PowerShell), else the newest Visual Studio
# (Build Tools included) with the C++ tools, through vswhere.
function Find-MsvcBin {
    $cl = Get-Command cl.exe -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($cl) { return Split-Path $cl.Source }
    $pf86 = ${env:ProgramFiles(x86)}
    if (-not $pf86) { return $null }
    $vswhere = [IO.Path]::Join($pf86, 'Microsoft Visual Studio', 'Installer', 'vswhere.exe')
    if (-not (Test-Path $vswhere)) { return $null }
    $vs = & $vswhere -latest -products * -requires Microsoft.VisualStudio.Component.VC.Tools.x86.x64 -property installationPath
    if (-not $vs) { return $null }
    $msvc = [IO.Path]::Join($vs, 'VC', 'Tools', 'MSVC')
    if (-not (Test-Path $msvc)) { return $null }
    foreach ($v in Get-ChildItem $msvc -Directory | Sort-Object { ConvertTo-Version $_.Name } -Descending) {
        $bin = [IO.Path]::Join($v.FullName, 'bin', 'Hostx64', 'x64')
        if (Test-Path ([IO.Path]::Join($bin, 'cl.exe'))) { return $bin }
    }
    $null
}

# The first folder among $Folders, then PATH, that holds one of $Names; returns the file's path.
function Find-Library([string[]]$Names, [string[]]$Folders = @()) {
    $sep = [IO.Path]::PathSeparator
    $all = @($Folders) + @(($env:PATH ?? '') -split [regex]::Escape($sep) | Where-Object { $_ } | ForEach-Object { $_.Trim('"') })
    foreach ($f in $all) {
        foreach ($n in $Names) {
            $p = [IO.Path]::Join($f, $n)
            if (Test-Path -LiteralPath $p -PathType Leaf) { return $p }
        }
    }
    $null
}

# Folders where the Windows installers and vcpkg put the libraries the engine loads (see
# engine/Cuda/Native/WindowsLibraryFolders.cs for the engine's own, fuller search).
function Get-WindowsLibraryFolders {
    $folders = @()
    if ($env:ENGINE_CUDA_LIB_PATH) { $folders += $env:ENGINE_CUDA_LIB_PATH -split [regex]::Escape([IO.Path]::PathSeparator) }
    foreach ($t in Get-CudaToolkits) { $folders += [IO.Path]::Join($t, 'bin', 'x64'), [IO.Path]::Join($t, 'bin') }
    $cudnn = [IO.Path]::Join((Get-ProgramFiles), 'NVIDIA', 'CUDNN')
    if (Test-Path $cudnn) {
        foreach ($bin in Get-ChildItem $cudnn -Directory -Filter 'v9*' | ForEach-Object { [IO.Path]::Join($_.FullName, 'bin') } | Where-Object { Test-Path $_ }) {
            foreach ($cuda in Get-ChildItem $bin -Directory | Sort-Object { ConvertTo-Version $_.Name } -Descending) { $folders += [IO.Path]::Join($cuda.FullName, 'x64'), $cuda.FullName }
            $folders += $bin
        }
    }
    if ($env:VCPKG_ROOT) { $folders += [IO.Path]::Join($env:VCPKG_ROOT, 'installed', 'x64-windows', 'bin') }
    $folders += 'C:\libjpeg-turbo64\bin'
    if ($env:SystemRoot) { $folders += [IO.Path]::Join($env:SystemRoot, 'System32') }
    $folders
}
