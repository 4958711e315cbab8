namespace StillControl.Recipes;

/// <summary>
/// The built-in recipe: a strong-aroma (浓香) batch with the figures of shared/domain.md as settings.
/// Slow steam at about 0.036 kg/s while spirit runs, capped at 30 kPa (SOP: ≤ 0.03 MPa while distillate runs, 0.03-0.05 MPa
/// loading and steaming); distillate held at 30 °C in heads and at most 30 °C in hearts, hotter in tails; heads 0.5 kg;
/// hearts in two grades cut at 65 and 50 % vol; tails to 10 % vol; 45 min grain steaming.
/// </summary>
public static class DefaultRecipe
{
    public static Recipe Create() => new()
    {
        Name = "strong-aroma-default",
        Description = "Built-in strong-aroma (浓香) batch: slow steam while distilling, strong steam to chase the tails.",
    };
}
