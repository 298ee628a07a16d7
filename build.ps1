#!/usr/bin/env pwsh
# One entry point for set-up, build and the everyday commands (PowerShell 7, Windows or Linux).
#   ./build.ps1            check what is missing, compile the kernels, build everything
#   ./build.ps1 train ...  build, then `host train ...` (no arguments: the embedded default dataset)
#   ./build.ps1 test ...   build, then run the test suite (extra arguments go to the test runner)
#   ./build.ps1 host ...   build, then run `host` with the given arguments
# Environment: SKIP_DEPS=1 skips the package check; SKIP_KERNELS=1 keeps the PTX already built; CONFIG=Debug|Release (default Release).
# Linux runs build.sh's own tools/setup/*.sh; Windows checks the CUDA toolkit, MSVC, cuDNN,
# libjpeg-turbo and libspng (tools/setup/check-deps.ps1 names where to get what is missing;
# it installs nothing) and builds the kernels with nvcc and cl.exe (tools/setup/build-kernels.ps1).
#Requires -Version 7.0
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
$Config = if ($env:CONFIG) { $env:CONFIG } else { 'Release' }
$Out = Join-Path 'out' 'bin'

function Write-Log([string]$Message) { [Console]::Error.WriteLine("[build] $Message") }

# Runs a native command and stops the script with its exit code when it fails.
function Invoke-Checked([string]$Exe, [string[]]$Arguments = @()) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

function Install-Deps {
    if ($env:SKIP_DEPS -eq '1') { return }
    if ($IsWindows) { & (Join-Path $PSScriptRoot 'tools' 'setup' 'check-deps.ps1') }
    else { Invoke-Checked 'tools/setup/install-deps.sh' }
}

function Build-Kernels {
    if ($env:SKIP_KERNELS -eq '1') { return }
    if ($IsWindows) {
        & (Join-Path $PSScriptRoot 'tools' 'setup' 'build-kernels.ps1')
        if (-not $?) { exit 1 }
    }
    else { Invoke-Checked 'tools/setup/build-kernels.sh' }
}

function Build-Dotnet {
    Write-Log "dotnet build ($Config)"
    Invoke-Checked 'dotnet' @('build', 'Engine.sln', '-c', $Config, '-nologo', '-clp:NoSummary', '-v:q')
    New-Item -ItemType Directory -Force 'out' | Out-Null
    if ($IsWindows) {
        # A junction needs neither administrator rights nor developer mode, unlike a symbolic link.
        if (Test-Path $Out) { [IO.Directory]::Delete((Join-Path $PSScriptRoot $Out)) }
        New-Item -ItemType Junction -Path $Out -Target (Join-Path $PSScriptRoot 'host' 'bin' $Config 'net10.0') | Out-Null
    }
    else { Invoke-Checked 'ln' @('-sfn', "../host/bin/$Config/net10.0", $Out) }
}

function Get-HostExe { Join-Path $Out ($IsWindows ? 'host.exe' : 'host') }

$cmd = if ($args.Count -gt 0) { [string]$args[0] } else { 'build' }
$rest = [string[]]@($args | Select-Object -Skip 1)
switch -CaseSensitive ($cmd) {
    'build' { Install-Deps; Build-Kernels; Build-Dotnet }
    'train' { Install-Deps; Build-Kernels; Build-Dotnet; & (Get-HostExe) train @rest; exit $LASTEXITCODE }
    'host' { Install-Deps; Build-Kernels; Build-Dotnet; & (Get-HostExe) @rest; exit $LASTEXITCODE }
    'test' {
        Install-Deps; Build-Kernels; Build-Dotnet
        & dotnet test --solution Engine.sln -c $Config --no-build @rest
        exit $LASTEXITCODE
    }
    { $_ -in '-h', '--help', 'help' } {
        Get-Content $PSCommandPath | Select-Object -Skip 1 -First 9 | ForEach-Object { $_ -replace '^# ?', '' }
    }
    default {
        [Console]::Error.WriteLine("build.ps1: unknown command '$cmd' (expected build, train, test, host or help)")
        exit 2
    }
}
