using Engine.Cuda;
using Engine.Cuda.DnnGraph;
using Engine.Cuda.Native;

namespace Engine.Tests.Cuda;

/// <summary>The graph-API builder against a recording stand-in for cuDNN: which descriptors, which attributes with which values, in which order.</summary>
public class DnnGraphBuilderTests
{
    [Test]
    public void NamesAreTheHeaderSpellings()
    {
        Assert.That(CudnnBackendNames.Of(BackendAttribute.OperationConvolutionBwdFilterDw), Is.EqualTo("CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW"));
        Assert.That(CudnnBackendNames.Of(BackendAttribute.OperationgraphOps), Is.EqualTo("CUDNN_ATTR_OPERATIONGRAPH_OPS"));
        Assert.That(CudnnBackendNames.Of(BackendAttribute.EngineheurMode), Is.EqualTo("CUDNN_ATTR_ENGINEHEUR_MODE"));
        Assert.That(CudnnBackendNames.Of(BackendDescriptorType.OperationConvolutionBackwardData),
            Is.EqualTo("CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR"));
        Assert.That(CudnnBackendNames.Of(BackendDescriptorType.Operationgraph), Is.EqualTo("CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR"));
        Assert.That(CudnnBackendNames.Of(BackendAttributeType.BackendDescriptor), Is.EqualTo("CUDNN_TYPE_BACKEND_DESCRIPTOR"));
    }

    [Test]
    public void EnumValuesAreTheHeaders()
    {
        // cuDNN 9.6 cudnn_graph.h: spot checks across each enum's range.
        Assert.That((int)BackendDescriptorType.Tensor, Is.EqualTo(17));
        Assert.That((int)BackendDescriptorType.Operationgraph, Is.EqualTo(15));
        Assert.That((int)BackendAttribute.TensorUniqueId, Is.EqualTo(906));
        Assert.That((int)BackendAttribute.OperationConvolutionBwdFilterDy, Is.EqualTo(717));
        Assert.That((int)BackendAttribute.EngineNumericalNote, Is.EqualTo(1303));
        Assert.That((int)BackendAttributeType.BackendDescriptor, Is.EqualTo(15));
        Assert.That((int)BackendHeurMode.A, Is.EqualTo(3));
    }

    [TestCase(GraphLayout.Nchw, 0, new long[] { 210, 35, 7, 1 })]
    [TestCase(GraphLayout.Nhwc, 0, new long[] { 210, 1, 42, 6 })]
    [TestCase(GraphLayout.Nchw, 500, new long[] { 500, 35, 7, 1 })]
    public void TensorSetsItsAttributesThenFinalizes(GraphLayout layout, long sampleStride, long[] strides)
    {
        var api = new RecordingBackendApi();
        using var d = GraphTensor.Activation(4, layout, 2, 6, 5, 7, sampleStride, GraphDataType.BFloat16, 8).Build(api);
        Assert.That(api.Lines, Is.EqualTo(new[]
        {
            "create CUDNN_BACKEND_TENSOR_DESCRIPTOR #1",
            "#1 CUDNN_ATTR_TENSOR_DATA_TYPE CUDNN_TYPE_DATA_TYPE [9]",
            "#1 CUDNN_ATTR_TENSOR_DIMENSIONS CUDNN_TYPE_INT64 [2, 6, 5, 7]",
            $"#1 CUDNN_ATTR_TENSOR_STRIDES CUDNN_TYPE_INT64 [{string.Join(", ", strides)}]",
            "#1 CUDNN_ATTR_TENSOR_UNIQUE_ID CUDNN_TYPE_INT64 [4]",
            "#1 CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT CUDNN_TYPE_INT64 [8]",
            "finalize #1",
        }));
        Assert.That(d.Finalized);
    }

    [Test]
    public void NhwcFilterIsKrsc()
    {
        var t = GraphTensor.Filter(2, GraphLayout.Nhwc, 8, 3, 5, 5);
        Assert.That(t.Dims, Is.EqualTo(new long[] { 8, 3, 5, 5 }));
        Assert.That(t.Strides, Is.EqualTo(new long[] { 75, 1, 15, 3 }));
    }

    [TestCase(0x1000UL, 16)]
    [TestCase(0x1008UL, 8)]
    [TestCase(0x1004UL, 4)]
    [TestCase(0x1002UL, 2)]
    public void AlignmentIsTheAddresssLargestPowerOfTwoUpTo16(ulong address, long alignment) =>
        Assert.That(GraphTensor.AlignmentOf(address), Is.EqualTo(alignment));

    [Test]
    public void ConvolutionDescriptor()
    {
        var api = new RecordingBackendApi();
        using var d = new GraphConvolution(1, 2, 3, 4, 5, 6).Build(api);
        Assert.That(api.Lines.Skip(1), Is.EqualTo(new[]
        {
            "#1 CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS CUDNN_TYPE_INT64 [2]",
            "#1 CUDNN_ATTR_CONVOLUTION_COMP_TYPE CUDNN_TYPE_DATA_TYPE [0]",
            "#1 CUDNN_ATTR_CONVOLUTION_CONV_MODE CUDNN_TYPE_CONVOLUTION_MODE [1]",
            "#1 CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS CUDNN_TYPE_INT64 [1, 2]",
            "#1 CUDNN_ATTR_CONVOLUTION_POST_PADDINGS CUDNN_TYPE_INT64 [1, 2]",
            "#1 CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES CUDNN_TYPE_INT64 [3, 4]",
            "#1 CUDNN_ATTR_CONVOLUTION_DILATIONS CUDNN_TYPE_INT64 [5, 6]",
            "finalize #1",
        }));
    }

    [TestCase(ConvPass.Forward, "OPERATION_CONVOLUTION_FORWARD", "FORWARD_X", "FORWARD_W", "FORWARD_Y", "FORWARD")]
    [TestCase(ConvPass.BackwardData, "OPERATION_CONVOLUTION_BACKWARD_DATA", "BWD_DATA_DX", "BWD_DATA_W", "BWD_DATA_DY", "BWD_DATA")]
    [TestCase(ConvPass.BackwardFilter, "OPERATION_CONVOLUTION_BACKWARD_FILTER", "BWD_FILTER_X", "BWD_FILTER_DW", "BWD_FILTER_DY", "BWD_FILTER")]
    public void OperationBindsTensorsByRole(ConvPass pass, string type, string x, string w, string y, string prefix)
    {
        var api = new RecordingBackendApi();
        var ds = Enumerable.Range(0, 4).Select(_ => new BackendDescriptor(api, BackendDescriptorType.Tensor)).ToArray();
        api.Lines.Clear();
        using var op = ConvOperation.Build(api, pass, ds[0], ds[1], ds[2], ds[3], 1f, 0.5f);
        Assert.That(api.Lines, Is.EqualTo(new[]
        {
            $"create CUDNN_BACKEND_{type}_DESCRIPTOR #5",
            $"#5 CUDNN_ATTR_OPERATION_CONVOLUTION_{x} CUDNN_TYPE_BACKEND_DESCRIPTOR [#1]",
            $"#5 CUDNN_ATTR_OPERATION_CONVOLUTION_{w} CUDNN_TYPE_BACKEND_DESCRIPTOR [#2]",
            $"#5 CUDNN_ATTR_OPERATION_CONVOLUTION_{y} CUDNN_TYPE_BACKEND_DESCRIPTOR [#3]",
            $"#5 CUDNN_ATTR_OPERATION_CONVOLUTION_{prefix}_CONV_DESC CUDNN_TYPE_BACKEND_DESCRIPTOR [#4]",
            $"#5 CUDNN_ATTR_OPERATION_CONVOLUTION_{prefix}_ALPHA CUDNN_TYPE_FLOAT [1]",
            $"#5 CUDNN_ATTR_OPERATION_CONVOLUTION_{prefix}_BETA CUDNN_TYPE_FLOAT [0.5]",
            "finalize #5",
        }));
        foreach (var d in ds) d.Dispose();
    }

    private static ConvGraphProblem Problem(bool tf32 = false) =>
        new(ConvPass.Forward, new ConvShape(2, 4, 6, 6, 8, 3, 1, 1, 1, 1, 6, 6), 144, GraphLayout.Nchw, GraphDataType.Float, 0, 16, 16, 16, tf32, true);

    [Test]
    public void PlanGoesGraphHeuristicsConfigPlan()
    {
        var api = new RecordingBackendApi { Workspace = 4096 };
        using var plan = ConvGraphPlan.Build(api, 0x77, Problem(), 1 << 20, out var why);
        Assert.That(plan, Is.Not.Null, why);
        Assert.That(plan!.WorkspaceBytes, Is.EqualTo(4096));
        Assert.That(plan.Mode, Is.EqualTo(BackendHeurMode.A));
        var rest = api.Lines.SkipWhile(l => !l.StartsWith("create CUDNN_BACKEND_OPERATIONGRAPH", StringComparison.Ordinal)).ToArray();
        Assert.That(rest, Is.EqualTo(new[]
        {
            "create CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR #6",
            "#6 CUDNN_ATTR_OPERATIONGRAPH_HANDLE CUDNN_TYPE_HANDLE [0x77]",
            "#6 CUDNN_ATTR_OPERATIONGRAPH_OPS CUDNN_TYPE_BACKEND_DESCRIPTOR [#5]",
            "finalize #6",
            "create CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR #7",
            "#7 CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH CUDNN_TYPE_BACKEND_DESCRIPTOR [#6]",
            "#7 CUDNN_ATTR_ENGINEHEUR_MODE CUDNN_TYPE_HEUR_MODE [3]",
            "finalize #7",
            "get #7 CUDNN_ATTR_ENGINEHEUR_RESULTS 0",
            "create CUDNN_BACKEND_ENGINECFG_DESCRIPTOR #8",
            "get #7 CUDNN_ATTR_ENGINEHEUR_RESULTS 1",
            "create CUDNN_BACKEND_ENGINE_DESCRIPTOR #9",
            "get #8 CUDNN_ATTR_ENGINECFG_ENGINE 1",
            "get #9 CUDNN_ATTR_ENGINE_NUMERICAL_NOTE 16",
            "destroy #9",
            "create CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR #10",
            "#10 CUDNN_ATTR_EXECUTION_PLAN_HANDLE CUDNN_TYPE_HANDLE [0x77]",
            "#10 CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG CUDNN_TYPE_BACKEND_DESCRIPTOR [#8]",
            "finalize #10",
            "get #10 CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE 1",
            "destroy #7",
        }));
    }

    [Test]
    public void NoEngineTriesFallbackModeThenSaysWhy()
    {
        var api = new RecordingBackendApi { PlanFinalizeStatus = 3000 };
        var plan = ConvGraphPlan.Build(api, 1, Problem(), 1 << 20, out var why);
        Assert.That(plan, Is.Null);
        Assert.That(api.Lines, Has.Some.EqualTo("#7 CUDNN_ATTR_ENGINEHEUR_MODE CUDNN_TYPE_HEUR_MODE [3]"));
        Assert.That(api.Lines.Count(l => l.EndsWith("CUDNN_ATTR_ENGINEHEUR_MODE CUDNN_TYPE_HEUR_MODE [2]", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(why, Is.EqualTo("mode A: 1 x plan not finalized (CUDNN_STATUS_NOT_SUPPORTED); mode Fallback: 1 x plan not finalized (CUDNN_STATUS_NOT_SUPPORTED)"));
        Assert.That(api.Live, Is.Empty, "every descriptor destroyed");
    }

    [Test]
    public void WorkspaceOverTheLimitIsPassedOver()
    {
        var api = new RecordingBackendApi { Workspace = 1 << 21 };
        Assert.That(ConvGraphPlan.Build(api, 1, Problem(), 1 << 20, out var why), Is.Null);
        Assert.That(why, Does.Contain("mode A: 1 x needs more than 1 MiB of workspace"));
    }

    [TestCase(false, false)]
    [TestCase(true, true)]
    public void TensorCoreEnginesNeedTf32(bool tf32, bool taken)
    {
        var api = new RecordingBackendApi { Notes = [(int)BackendNumericalNote.TensorCore] };
        using var plan = ConvGraphPlan.Build(api, 1, Problem(tf32), 1 << 20, out var why);
        Assert.That(plan is not null, Is.EqualTo(taken), why);
        if (!taken) Assert.That(why, Does.Contain("TF32 tensor cores (TF32 is off)"));
    }

    [Test]
    public void NondeterministicEnginesAreSkippedWhenDeterminismIsAsked()
    {
        var api = new RecordingBackendApi { Notes = [(int)BackendNumericalNote.Nondeterministic] };
        Assert.That(ConvGraphPlan.Build(api, 1, Problem(), 1 << 20, out var why), Is.Null);
        Assert.That(why, Does.Contain("non-deterministic"));
    }

    [Test]
    public void RejectionsSummariseToOneLinePerMode()
    {
        var r = new List<(BackendHeurMode, string)>
        {
            (BackendHeurMode.A, "non-deterministic"), (BackendHeurMode.A, "TF32 tensor cores (TF32 is off)"), (BackendHeurMode.A, "non-deterministic"),
            (BackendHeurMode.Fallback, "plan not finalized (CUDNN_STATUS_NOT_SUPPORTED)"),
        };
        Assert.That(EngineChoice.Summary(r), Is.EqualTo(
            "mode A: 2 x non-deterministic, 1 x TF32 tensor cores (TF32 is off); mode Fallback: 1 x plan not finalized (CUDNN_STATUS_NOT_SUPPORTED)"));
    }

    [Test]
    public void FinalizeFailureNamesDescriptorAndTheAttributesSet()
    {
        var api = new RecordingBackendApi { FinalizeStatus = 2000 };
        using var d = new BackendDescriptor(api, BackendDescriptorType.Convolution);
        d.Set(BackendAttribute.ConvolutionSpatialDims, 2L);
        var e = Assert.Throws<CudaException>(() => d.Finalize())!;
        Assert.That(e.Message, Does.StartWith("cudnnBackendFinalize(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR; set: CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS) failed: CUDNN_STATUS_BAD_PARAM (2000)"));
    }

    [Test]
    public void SetFailureNamesDescriptorAndAttribute()
    {
        var api = new RecordingBackendApi { SetStatus = 2000 };
        using var d = new BackendDescriptor(api, BackendDescriptorType.Tensor);
        var e = Assert.Throws<CudaException>(() => d.Set(BackendAttribute.TensorUniqueId, 1L))!;
        Assert.That(e.Call, Is.EqualTo("cudnnBackendSetAttribute(CUDNN_BACKEND_TENSOR_DESCRIPTOR, CUDNN_ATTR_TENSOR_UNIQUE_ID)"));
    }
}

/// <summary>
/// Stands in for cuDNN's backend API: numbers descriptors #1, #2, … in creation order, records
/// every call as a line, and answers the heuristics with one engine configuration.
/// </summary>
internal sealed unsafe class RecordingBackendApi : IBackendApi
{
    private int _next;
    public List<string> Lines { get; } = [];
    public HashSet<nint> Live { get; } = [];
    public int FinalizeStatus { get; init; }
    public int PlanFinalizeStatus { get; init; }
    public int SetStatus { get; init; }
    public long Workspace { get; init; }
    public int[] Notes { get; init; } = [];
    private readonly Dictionary<nint, BackendDescriptorType> _types = [];

    public int Create(BackendDescriptorType type, out nint descriptor)
    {
        descriptor = ++_next;
        _types[descriptor] = type;
        Live.Add(descriptor);
        Lines.Add($"create {CudnnBackendNames.Of(type)} #{descriptor}");
        return 0;
    }

    public int Destroy(nint descriptor)
    {
        Live.Remove(descriptor);
        // Only the ones the builder drops early are interesting in the sequences.
        if (_types[descriptor] is BackendDescriptorType.Engine or BackendDescriptorType.Engineheur) Lines.Add($"destroy #{descriptor}");
        return 0;
    }

    public int Finalize(nint descriptor)
    {
        Lines.Add($"finalize #{descriptor}");
        return _types[descriptor] == BackendDescriptorType.ExecutionPlan && PlanFinalizeStatus != 0 ? PlanFinalizeStatus : FinalizeStatus;
    }

    public int SetAttribute(nint descriptor, BackendAttribute name, BackendAttributeType type, long count, void* elements)
    {
        if (SetStatus != 0) return SetStatus;
        var values = new string[count];
        for (int i = 0; i < count; i++)
            values[i] = type switch
            {
                BackendAttributeType.Int64 => ((long*)elements)[i].ToString(),
                BackendAttributeType.Float => ((float*)elements)[i].ToString(System.Globalization.CultureInfo.InvariantCulture),
                BackendAttributeType.BackendDescriptor => $"#{((nint*)elements)[i]}",
                BackendAttributeType.Handle or BackendAttributeType.VoidPtr => $"0x{((nint*)elements)[i]:x}",
                _ => ((int*)elements)[i].ToString(),
            };
        Lines.Add($"#{descriptor} {CudnnBackendNames.Of(name)} {CudnnBackendNames.Of(type)} [{string.Join(", ", values)}]");
        return 0;
    }

    public int GetAttribute(nint descriptor, BackendAttribute name, BackendAttributeType type, long requested, out long count, void* elements)
    {
        Lines.Add($"get #{descriptor} {CudnnBackendNames.Of(name)} {requested}");
        switch (name)
        {
            case BackendAttribute.EngineheurResults:
            case BackendAttribute.EnginecfgEngine:
                count = 1;
                break;
            case BackendAttribute.EngineNumericalNote:
                count = Math.Min(requested, Notes.Length);
                for (int i = 0; i < count; i++) ((int*)elements)[i] = Notes[i];
                break;
            case BackendAttribute.ExecutionPlanWorkspaceSize:
                count = 1;
                *(long*)elements = Workspace;
                break;
            default:
                count = 0;
                break;
        }
        return 0;
    }

    public int Execute(nint handle, nint plan, nint variantPack)
    {
        Lines.Add($"execute #{plan} #{variantPack}");
        return 0;
    }
}
