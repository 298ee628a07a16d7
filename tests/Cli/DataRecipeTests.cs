using Host;

namespace Engine.Tests.Cli;

/// <summary>`--recipe data`'s choices for datasets of several sizes and nets, flags that win, and `--recipe paper` as the seeds' settings.</summary>
public class DataRecipeTests
{
    [TestCase("vgg11", 1_400, 16, 87, 12)]        // the finding's folder: 5 steps an epoch at VGG's batch 256
    [TestCase("vovnet57", 1_400, 16, 87, 12)]
    [TestCase("vgg16", 12_000, 128, 93, 11)]
    [TestCase("vgg11", 50_000, 256, 195, DataRecipe.MinEpochs)]      // CIFAR-sized
    [TestCase("vgg11", 100, 16, 6, 167)]
    [TestCase("vgg11", 10, 8, 1, DataRecipe.MaxEpochs)] // fewer examples than the smallest batch
    public void Classification_gets_enough_steps_adam_and_a_schedule_in_steps(string net, int examples, int batch, int stepsPerEpoch, int epochs)
    {
        var choice = DataRecipe.Choose(net, examples, segmentation: false);
        var s = choice.Settings;
        Assert.That((s.Batch, s.Epochs, s.Optimizer, s.LearningRate, s.WeightDecay, s.Schedule), Is.EqualTo((batch, epochs, "adam", 1e-3, 0.0, "warmup")));
        Assert.That(examples / s.Batch, Is.EqualTo(stepsPerEpoch));
        if (examples >= DataRecipe.MinStepsPerEpoch * 16) Assert.That(stepsPerEpoch, Is.GreaterThanOrEqualTo(DataRecipe.MinStepsPerEpoch));
        if (epochs is > DataRecipe.MinEpochs and < DataRecipe.MaxEpochs) Assert.That(stepsPerEpoch * epochs, Is.InRange(DataRecipe.TargetSteps, DataRecipe.TargetSteps + stepsPerEpoch));
        if (epochs == DataRecipe.MinEpochs) Assert.That(stepsPerEpoch * epochs, Is.GreaterThanOrEqualTo(DataRecipe.TargetSteps));
        Assert.That(choice.Line, Does.StartWith($"recipe data: {examples:N0} training examples -> batch {batch} ({stepsPerEpoch} steps an epoch")
            .And.Contain("Adam lr 0.001").And.Contain("warm-up").And.Contain($"{stepsPerEpoch * epochs:N0} steps in {epochs} epochs")
            .And.EndWith($"--recipe paper for the seed's settings ({TrainDefaults.For(net).Source})"));
    }

    [TestCase(367, 4)]     // CamVid's training set, SegNet's batch
    [TestCase(1_464, 16)]  // VOC 2012 segmentation train
    public void Segmentation_batches_stay_small(int examples, int batch)
    {
        var s = DataRecipe.Choose("segnet", examples, segmentation: true).Settings;
        Assert.That((s.Batch, s.Optimizer, s.Schedule), Is.EqualTo((batch, "adam", "warmup")));
    }

    [TestCase("vgg11")]
    [TestCase("vovnet57")]
    [TestCase("segnet")]
    public void ImageNet_sized_data_keeps_the_seeds_settings(string net)
    {
        var choice = DataRecipe.Choose(net, 1_281_167, segmentation: net == "segnet");
        Assert.That(choice.Settings, Is.EqualTo(TrainDefaults.For(net)));
        Assert.That(choice.Line, Does.StartWith("recipe data: 1,281,167 training examples, ImageNet-sized: the seed's settings fit"));
    }

    [Test]
    public void Each_given_value_wins_and_the_rest_follow_it()
    {
        var s = DataRecipe.Choose("vgg11", 1_400, false, new GivenSettings(Batch: 64)).Settings;
        Assert.That((s.Batch, s.Epochs), Is.EqualTo((64, 48)), "21 steps an epoch: the length follows the given batch");
        s = DataRecipe.Choose("vgg11", 1_400, false, new GivenSettings(Optimizer: "SGD")).Settings;
        Assert.That((s.Optimizer, s.LearningRate, s.WeightDecay), Is.EqualTo(("sgd", 0.01 * 16 / 256, 5e-4)), "the seed's rate scaled linearly to batch 16");
        s = DataRecipe.Choose("segnet", 1_400, true, new GivenSettings(Optimizer: "sgd")).Settings;
        Assert.That(s.LearningRate, Is.EqualTo(0.01 * 16 / 32));
        var choice = DataRecipe.Choose("vgg11", 1_400, false, new GivenSettings("sgd", 0.05, 32, 3, "plateau:patience=4"));
        s = choice.Settings;
        Assert.That((s.Optimizer, s.LearningRate, s.Batch, s.Epochs, s.Schedule), Is.EqualTo(("sgd", 0.05, 32, 3, "plateau:patience=4")));
        Assert.That(choice.Line, Does.Contain("batch 32 as given").And.Contain("lr 0.05 (as given)").And.Contain("schedule plateau:patience=4 as given")
            .And.Contain("129 steps in 3 epochs (as given)"));
    }

    [TestCase("vgg11", 32, "32:36")]
    [TestCase("vgg16", 224, "224:252")]
    [TestCase("vovnet57", 224, null)]
    [TestCase("segnet", 64, null)]
    public void Small_data_gets_mild_crops_for_vgg_and_no_mirroring(string net, int side, string? scale)
    {
        var a = DataAugmentation.Choose(net, side, 1_500, null, null);
        Assert.That((a.VggScale, a.Flip), Is.EqualTo((scale, (bool?)false)));
        Assert.That(a.Line, Does.StartWith("recipe data: augmentation: ").And.Contain("no mirroring").And.EndWith($"the rest of {net}'s own augmentation kept"));
        if (scale is not null)
        {
            int top = int.Parse(scale.Split(':')[1]);
            Assert.That((double)side / top, Is.GreaterThanOrEqualTo(8.0 / 9), "a crop keeps at least 8/9 of the side");
            Assert.That(a.Line, Does.Contain($"VGG scale S in [{side}, {top}] (random crops of 89..100 %"));
        }
    }

    [Test]
    public void Given_augmentation_wins_and_ImageNet_sized_data_keeps_the_nets_own()
    {
        var a = DataAugmentation.Choose("vgg11", 32, 1_500, "40", true);
        Assert.That((a.VggScale, a.Flip), Is.EqualTo(("40", (bool?)true)));
        Assert.That(a.Line, Does.Contain("VGG scale S 40 as given").And.Contain("mirroring on as given"));
        a = DataAugmentation.Choose("vgg11", 224, 1_281_167, null, null);
        Assert.That((a.VggScale, a.Flip), Is.EqualTo(((string?)null, (bool?)null)));
    }

    /// <summary>`--recipe paper` is <see cref="TrainDefaults.For"/>, whose values are the seeds' (SPEC.md) and must not drift.</summary>
    [Test]
    public void Paper_recipe_is_the_seeds_settings_unchanged()
    {
        Assert.That(TrainDefaults.For("vovnet57") with { Source = "" }, Is.EqualTo(new TrainDefaults("sgd-unit", 0.1, 0.9, 5e-4, "triangular2:min=1e-4,half=10", 64, 100, "")));
        Assert.That(TrainDefaults.For("vgg16") with { Source = "" }, Is.EqualTo(new TrainDefaults("sgd", 0.01, 0.9, 5e-4, "plateau", 256, 74, "")));
        Assert.That(TrainDefaults.For("segnet") with { Source = "" }, Is.EqualTo(new TrainDefaults("adam", 1e-3, 0.9, 0, "constant", 4, 100, "")));
        Assert.That(TrainDefaults.For("fcn") with { Source = "" }, Is.EqualTo(new TrainDefaults("adam", 1e-3, 0.9, 0, "constant", 4, 100, "")));
    }
}
